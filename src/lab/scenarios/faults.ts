import { run, runChecked } from "../../util/exec.js";
import type { LabNode, Topology } from "../../harness/topology.js";

const IP_TIMEOUT_MS = 10_000;

/** `ip addr flush dev pn0` in the node: something (an operator, a script, a netplan apply) wiped the address. */
export async function flushAddress(node: LabNode): Promise<void> {
  await runChecked(run, "ip", ["-n", node.ns.name, "addr", "flush", "dev", node.ifname], {
    timeoutMs: IP_TIMEOUT_MS,
  });
}

/**
 * The fabric end of the node's pn0, found by ifindex (veth peers report each other's
 * index as `link_index`), so the lab flaps exactly the node's own cable.
 */
async function fabricPeer(topo: Topology, node: LabNode): Promise<string> {
  const own = await runChecked(run, "ip", ["-n", node.ns.name, "-j", "link", "show", node.ifname], {
    timeoutMs: IP_TIMEOUT_MS,
  });
  const peerIndex = (JSON.parse(own) as { link_index?: number }[])[0]?.link_index;
  const all = await runChecked(run, "ip", ["-n", topo.fabric.name, "-j", "link", "show"], {
    timeoutMs: IP_TIMEOUT_MS,
  });
  const peer = (JSON.parse(all) as { ifindex: number; ifname: string }[]).find(
    (l) => l.ifindex === peerIndex,
  );
  if (!peer) throw new Error(`no fabric peer for ${node.ns.name}/${node.ifname} (link_index ${peerIndex})`);
  return peer.ifname;
}

/**
 * Carrier loss on pn0, as when the parent NIC under the PN VLAN loses link: the switch
 * side of the cable goes down, pn0 stays administratively up.
 */
export async function setCarrier(topo: Topology, node: LabNode, up: boolean): Promise<void> {
  const peer = await fabricPeer(topo, node);
  await runChecked(run, "ip", ["-n", topo.fabric.name, "link", "set", peer, up ? "up" : "down"], {
    timeoutMs: IP_TIMEOUT_MS,
  });
}
