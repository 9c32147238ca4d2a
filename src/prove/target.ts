import { invalidInput } from "../errors.js";
import type { Spec } from "../render/spec.js";

/** What prove checks on the node: the spec's first VLAN attachment discovered by DHCP. */
export interface ProveTarget {
  readonly interface: string;
  readonly vlanId: number;
  /** index in agent.config.attachments, for messages */
  readonly index: number;
}

// The node VM has one NIC, eth0 (net.ifnames=0): the parent the spec may name.
const VM_PARENTS = new Set(["auto", "eth0"]);

/**
 * The attachment to prove. Exit 2 (naming the field) when the spec has nothing prove can
 * stand up: no VLAN + DHCP attachment, or a parent NIC the VM does not have.
 */
export function proveTarget(spec: Spec, file: string): ProveTarget {
  const attachments = spec.agent.config.attachments;
  const index = attachments.findIndex((a) => a.link.kind === "vlan" && a.address.source === "dhcp");
  if (index < 0) {
    throw invalidInput("nothing to prove: no attachment with link.kind vlan and address.source dhcp", file, [
      "agent.config.attachments: prove boots a VLAN on the node's NIC and a DHCP server on it",
    ]);
  }
  const a = attachments[index]!;
  if (a.link.kind !== "vlan") throw new Error("internal: not a vlan");
  if (!VM_PARENTS.has(a.link.parent)) {
    throw invalidInput(`agent.config.attachments[${index}].link.parent: the VM's NIC is eth0`, file, [
      `expected "auto" or "eth0" for prove, got ${JSON.stringify(a.link.parent)}`,
    ]);
  }
  return { interface: a.interface, vlanId: a.link.vlanId, index };
}
