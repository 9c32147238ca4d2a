import type { Desired } from "./desired.js";
import { planHost } from "./plan.js";
import { probeHost } from "./probe.js";
import type { SshOptions, SshTarget } from "./ssh.js";

/**
 * After applying: probe again, independently of what the script said. Converged means
 * the agent runs and `holdfast status --json` says every attachment is held, with the
 * rendered files in place and no other client left on the interfaces, which is exactly
 * when the plan for the host comes out `unchanged`.
 */
export interface Verified {
  readonly held: readonly { readonly interface: string; readonly cidr: string }[];
}

export async function verifyHost(
  target: SshTarget,
  desired: Desired,
  options: SshOptions & { readonly timeoutMs: number },
): Promise<Verified> {
  const probe = await probeHost(target, desired.interfaces, options, desired);
  const plan = planHost(probe, desired);
  if (plan.kind !== "unchanged") throw new Error(`not converged after apply: ${plan.reasons.join("; ")}`);
  return { held: heldOf(probe.status) };
}

export function heldOf(
  status:
    | { readonly attachments: readonly { interface: string; state: string; cidr: string | null }[] }
    | undefined,
): { interface: string; cidr: string }[] {
  return (status?.attachments ?? []).flatMap((a) =>
    a.state === "held" && a.cidr !== null ? [{ interface: a.interface, cidr: a.cidr }] : [],
  );
}
