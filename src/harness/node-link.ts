import { run, runChecked } from "../util/exec.js";
import type { Netns } from "./netns.js";

/*
 * A member namespace's link to the fabric: a veth pair made inside the fabric namespace,
 * one end on the bridge, the other moved straight into the member, so no lab interface
 * ever exists in the root namespace. A lab node's pn0 can be deleted and re-created.
 */

export const BRIDGE = "br0";
export const NODE_IFNAME = "pn0";
export const IP_TIMEOUT_MS = 10_000;

export interface LabNode {
  readonly ns: Netns;
  readonly ifname: "pn0";
  readonly mac: string;
  readonly ip: string;
  readonly cidr: string;
  /** delete pn0 (if present) and create the same veth again (same MAC) on the bridge */
  recreateLink(): Promise<void>;
  /** delete pn0 and its fabric peer; recreateLink() brings it back */
  deleteLink(): Promise<void>;
  /** IPv4 CIDRs on pn0 in the node namespace */
  addresses(): Promise<string[]>;
}

export async function ip(args: readonly string[]): Promise<void> {
  await runChecked(run, "ip", args, { timeoutMs: IP_TIMEOUT_MS });
}

/** veth pair made inside the fabric, member end moved into `member` as `ifname`, fabric end on the bridge. */
export async function plugIn(
  fabric: Netns,
  member: Netns,
  peer: string,
  ifname: string,
  mac: string,
): Promise<void> {
  await ip([
    "-n", fabric.name, "link", "add", peer, "type", "veth",
    "peer", "name", ifname, "address", mac, "netns", member.name,
  ]); // prettier-ignore
  await ip(["-n", fabric.name, "link", "set", peer, "master", BRIDGE, "up"]);
  await ip(["-n", member.name, "link", "set", ifname, "up"]);
}

async function readAddresses(ns: Netns, ifname: string): Promise<string[]> {
  const result = await run("ip", ["-n", ns.name, "-j", "-4", "addr", "show", "dev", ifname], {
    timeoutMs: IP_TIMEOUT_MS,
  });
  if (result.code !== 0) return []; // no such device: no addresses
  const links = JSON.parse(result.stdout || "[]") as { addr_info?: { local: string; prefixlen: number }[] }[];
  return links.flatMap((link) => (link.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`));
}

/** A lab node: its namespace, its pn0 on the fabric, and the address Kea reserves for it. */
export class NodeHandle implements LabNode {
  readonly ifname = NODE_IFNAME;
  readonly ip: string;

  constructor(
    readonly ns: Netns,
    private readonly fabric: Netns,
    /** pn0's veth peer on the fabric's bridge */
    private readonly peer: string,
    readonly mac: string,
    /** the node's reserved address with the lab's prefix length */
    readonly cidr: string,
  ) {
    this.ip = cidr.slice(0, cidr.indexOf("/"));
  }

  async deleteLink(): Promise<void> {
    // deleting either end of a veth removes both
    await run("ip", ["-n", this.ns.name, "link", "del", NODE_IFNAME], { timeoutMs: IP_TIMEOUT_MS });
    await run("ip", ["-n", this.fabric.name, "link", "del", this.peer], { timeoutMs: IP_TIMEOUT_MS });
  }

  async recreateLink(): Promise<void> {
    await this.deleteLink();
    await plugIn(this.fabric, this.ns, this.peer, NODE_IFNAME, this.mac);
  }

  addresses(): Promise<string[]> {
    return readAddresses(this.ns, NODE_IFNAME);
  }
}
