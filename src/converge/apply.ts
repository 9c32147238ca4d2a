import type { Desired } from "./desired.js";
import { HoldfastError } from "../errors.js";
import {
  lastErrorLine,
  RemoteCommandError,
  runRemoteScript,
  type SshOptions,
  type SshTarget,
} from "./ssh.js";

/**
 * Applies a host's plan: the rendered install script (design §4.6) on stdin of a remote
 * `bash -s`. The script itself is idempotent and does the adoption (src/render/adopt.ts),
 * the retirement of old DHCP clients without a release, and waits until the agent holds
 * every attachment; this module only delivers it and reads what it said.
 */

export interface ApplyResult {
  /** the script's result line: "holdfast: cache-a: held pn0 198.18.0.10/22 (holdfast 0.1.0, 6 changes)" */
  readonly summary: string;
  /** what the script changed, one line each ("/etc/holdfast/holdfast.yaml", "pn0: adopted …") */
  readonly changes: readonly string[];
}

// Installing Node.js from the distribution may take minutes on a slow mirror.
export const APPLY_TIMEOUT_MS = 10 * 60_000;

const CHANGED = /^holdfast: [^:]+: changed: (.*)$/;

export async function applyHost(
  target: SshTarget,
  desired: Desired,
  options: SshOptions & { readonly timeoutMs?: number },
): Promise<ApplyResult> {
  const result = await runRemoteScript(target, desired.script, {
    ...options,
    timeoutMs: options.timeoutMs ?? APPLY_TIMEOUT_MS,
  });
  const summary = result.stdout.trim().split("\n").at(-1)?.trim() ?? "";
  if (result.code !== 0) {
    const cause = new RemoteCommandError(result);
    if (result.sshFailed)
      throw new HoldfastError(`unreachable: ${lastErrorLine(result)}`, { code: "failure", cause });
    // the script's own result line says best what went wrong ("not held after 120s: …")
    throw new HoldfastError(summary || lastErrorLine(result), { code: "failure", cause });
  }
  const changes = result.stderr.split("\n").flatMap((line) => {
    const m = CHANGED.exec(line.trim());
    return m?.[1] ? [m[1]] : [];
  });
  return { summary, changes };
}
