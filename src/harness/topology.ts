import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startKea, type KeaOptionData, type KeaServer } from "./kea.js";
import { infraMac, nodeMac } from "./mac.js";
import { Netns } from "./netns.js";
import { BRIDGE, ip, IP_TIMEOUT_MS, NODE_IFNAME, NodeHandle, plugIn, type LabNode } from "./node-link.js";

export type { LabNode } from "./node-link.js";

/*
 *            [fabric ns: bridge br0]
 *        /            |            \
 *  [dhcp ns] dh0   [node ns] pn0   [runner ns] rn0
 *
 * Every veth pair is created from inside the fabric namespace with its other end moved
 * straight into the member namespace, so no lab interface ever exists in the root namespace.
 */

export interface NodeSpec {
  /** short, e.g. "n1"; becomes part of a namespace name */
  readonly name: string;
  /** reserved address in 198.18.0.0/22, e.g. "198.18.0.10" */
  readonly ip: string;
  /** Kea options for this node alone, e.g. a default route for one node @default none */
  readonly keaOptionData?: readonly KeaOptionData[];
}

export interface TopologyOptions {
  /** unique per run / test file, e.g. "hfa1234"; every namespace name starts with it */
  readonly prefix: string;
  /** @default 10 */
  readonly leaseSeconds?: number;
  readonly nodes: readonly NodeSpec[];
  /** false: start Kea later with topo.startKea() (IPAM lag) @default true */
  readonly startKea?: boolean;
  /** @default a fresh mkdtemp directory, removed by destroy() unless keepWorkDir */
  readonly workDir?: string;
  /** keep the default workDir (Kea config, log, leases) after destroy() for post-mortems @default false */
  readonly keepWorkDir?: boolean;
  /** extra Kea subnet options (routers, classless static routes) @default none */
  readonly keaOptionData?: readonly KeaOptionData[];
  /** Kea's dynamic pool ("" for none) @default DHCP_POOL */
  readonly pool?: string;
  /** reserve each node's ip for its MAC (IPAM) @default true */
  readonly reserveNodes?: boolean;
  /** Kea NAKs requests for addresses it does not give the client @default false */
  readonly authoritative?: boolean;
  /** a one-address pool per class of nodes (by name), instead of `pool` @default none */
  readonly classPools?: readonly {
    readonly name: string;
    readonly nodes: readonly string[];
    readonly ip: string;
  }[];
}

export interface Topology {
  readonly prefix: string;
  readonly workDir: string;
  readonly fabric: Netns;
  /** Kea's namespace: 169.254.169.254/32 and 198.18.0.1/22 on dh0 */
  readonly dhcp: Netns;
  /** 198.18.0.200/22 on rn0 */
  readonly runner: Netns;
  readonly nodes: readonly LabNode[];
  kea: KeaServer | undefined;
  startKea(): Promise<KeaServer>;
  /** always safe to call, also twice; removes every namespace and process it made */
  destroy(): Promise<void>;
}

export const LAB_SUBNET = "198.18.0.0/22";
export const LAB_PREFIX_LENGTH = 22;
export const DHCP_SERVER_IP = "198.18.0.1";
export const METADATA_IP = "169.254.169.254";
export const RUNNER_IP = "198.18.0.200";
export const DHCP_POOL = "198.18.1.0 - 198.18.1.255";
/** Kea's interface in the dhcp namespace */
export const DHCP_IFNAME = "dh0";
const RUNNER_IFNAME = "rn0";
const NODE_BATCH = 8;

/** Per-namespace sysctl: no IPv6 chatter (RS, DAD) on lab links. */
async function disableIpv6(ns: Netns): Promise<void> {
  const keys = ["net.ipv6.conf.all.disable_ipv6", "net.ipv6.conf.default.disable_ipv6"];
  await ns.exec("sysctl", ["-q", "-w", ...keys.map((key) => `${key}=1`)], { timeoutMs: IP_TIMEOUT_MS });
}

class LabTopology implements Topology {
  kea: KeaServer | undefined;
  readonly nodes: LabNode[] = [];
  private readonly made: Netns[] = [];
  /** per node, in node order: its own Kea options */
  private nodeOptionData: readonly (readonly KeaOptionData[] | undefined)[] = [];
  private fabricNs: Netns | undefined;
  private dhcpNs: Netns | undefined;
  private runnerNs: Netns | undefined;

  constructor(
    readonly prefix: string,
    readonly workDir: string,
    private readonly leaseSeconds: number,
    private readonly keaOptionData: readonly KeaOptionData[],
    private readonly keaExtra: Pick<
      TopologyOptions,
      "pool" | "reserveNodes" | "authoritative" | "classPools"
    >,
    /** set when destroy() should remove workDir (we made it and nobody asked to keep it) */
    private readonly ownsWorkDir: boolean,
  ) {}

  get fabric(): Netns {
    return required(this.fabricNs, "fabric");
  }
  get dhcp(): Netns {
    return required(this.dhcpNs, "dhcp");
  }
  get runner(): Netns {
    return required(this.runnerNs, "runner");
  }

  async build(specs: readonly NodeSpec[]): Promise<void> {
    this.nodeOptionData = specs.map((spec) => spec.keaOptionData);
    this.fabricNs = await this.makeNs("fab");
    await ip([
      "-n",
      this.fabric.name,
      "link",
      "add",
      BRIDGE,
      "type",
      "bridge",
      "forward_delay",
      "0",
      "stp_state",
      "0",
    ]);
    await ip(["-n", this.fabric.name, "link", "set", BRIDGE, "up"]);

    this.dhcpNs = await this.makeNs("dhcp");
    await plugIn(this.fabric, this.dhcp, "v-dhcp", DHCP_IFNAME, infraMac(1));
    await ip([
      "-n",
      this.dhcp.name,
      "addr",
      "add",
      `${DHCP_SERVER_IP}/${LAB_PREFIX_LENGTH}`,
      "dev",
      DHCP_IFNAME,
    ]);
    await ip(["-n", this.dhcp.name, "addr", "add", `${METADATA_IP}/32`, "dev", DHCP_IFNAME]);

    this.runnerNs = await this.makeNs("run");
    await plugIn(this.fabric, this.runner, "v-run", RUNNER_IFNAME, infraMac(2));
    await ip([
      "-n",
      this.runner.name,
      "addr",
      "add",
      `${RUNNER_IP}/${LAB_PREFIX_LENGTH}`,
      "dev",
      RUNNER_IFNAME,
    ]);

    // Nodes in parallel batches: a 25-node lab builds in a fraction of the sequential time.
    // allSettled, not all: every started namespace is recorded before a failure propagates,
    // so destroy() finds them all.
    const handles: NodeHandle[] = [];
    for (let start = 0; start < specs.length; start += NODE_BATCH) {
      const batch = specs.slice(start, start + NODE_BATCH).map(async (spec, offset) => {
        const index = start + offset;
        const ns = await this.makeNs(spec.name);
        const node = new NodeHandle(
          ns,
          this.fabric,
          `v${index}`,
          nodeMac(index),
          `${spec.ip}/${LAB_PREFIX_LENGTH}`,
        );
        await plugIn(this.fabric, ns, `v${index}`, NODE_IFNAME, node.mac);
        handles[index] = node;
      });
      const failed = (await Promise.allSettled(batch)).find((r) => r.status === "rejected");
      if (failed !== undefined) throw failed.reason;
    }
    this.nodes.push(...handles);
  }

  async startKea(): Promise<KeaServer> {
    if (this.kea !== undefined) throw new Error(`Kea already running in ${this.dhcp.name}`);
    const kea = await startKea(this.dhcp, {
      interface: DHCP_IFNAME,
      leaseSeconds: this.leaseSeconds,
      subnet: LAB_SUBNET,
      pool: this.keaExtra.pool ?? DHCP_POOL,
      reservations:
        (this.keaExtra.reserveNodes ?? true)
          ? this.nodes.map((node, index) => {
              const optionData = this.nodeOptionData[index];
              return { mac: node.mac, ip: node.ip, ...(optionData === undefined ? {} : { optionData }) };
            })
          : [],
      ...(this.keaExtra.authoritative === undefined ? {} : { authoritative: this.keaExtra.authoritative }),
      ...(this.keaExtra.classPools === undefined
        ? {}
        : {
            classPools: this.keaExtra.classPools.map((c) => ({
              name: c.name,
              ip: c.ip,
              macs: this.nodes
                .filter((n) => c.nodes.includes(n.ns.name.slice(this.prefix.length + 1)))
                .map((n) => n.mac),
            })),
          }),
      workDir: join(this.workDir, "kea"),
      optionData: this.keaOptionData,
    });
    this.kea = kea;
    await kea.waitReady();
    return kea;
  }

  async destroy(): Promise<void> {
    // Kea is one of the dhcp namespace's processes; Netns.destroy ends it with the rest.
    const errors: unknown[] = [];
    for (const ns of [...this.made].reverse()) {
      try {
        await ns.destroy();
      } catch (error) {
        errors.push(error);
      }
    }
    this.kea = undefined;
    if (this.ownsWorkDir && errors.length === 0) await rm(this.workDir, { recursive: true, force: true });
    if (errors.length > 0)
      throw new AggregateError(errors, `lab teardown incomplete for prefix ${this.prefix}`);
  }

  private async makeNs(role: string): Promise<Netns> {
    const ns = await Netns.create(`${this.prefix}-${role}`);
    this.made.push(ns);
    await disableIpv6(ns);
    return ns;
  }
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`topology has no ${what} namespace yet`);
  return value;
}

function validateOptions(options: TopologyOptions): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/.test(options.prefix)) {
    throw new Error(`prefix: expected [A-Za-z0-9_-], 1..32 chars, got ${JSON.stringify(options.prefix)}`);
  }
  const roles = new Set(["fab", "dhcp", "run"]);
  for (const [index, node] of options.nodes.entries()) {
    if (!/^[a-z0-9][a-z0-9-]{0,15}$/.test(node.name) || roles.has(node.name)) {
      throw new Error(
        `nodes[${index}].name: expected [a-z0-9-], 1..16 chars, not fab/dhcp/run, got ${JSON.stringify(node.name)}`,
      );
    }
    roles.add(node.name);
    const octets = node.ip.split(".").map(Number);
    const inLab = octets.length === 4 && octets[0] === 198 && octets[1] === 18 && (octets[2] ?? 9) <= 3;
    const reserved = [DHCP_SERVER_IP, RUNNER_IP, "198.18.0.0", "198.18.3.255"].includes(node.ip);
    if (!inLab || reserved || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) {
      throw new Error(
        `nodes[${index}].ip: expected a free address in ${LAB_SUBNET}, got ${JSON.stringify(node.ip)}`,
      );
    }
  }
}

/** Builds the whole lab; on any failure it tears down what it had made before throwing. */
export async function createTopology(options: TopologyOptions): Promise<Topology> {
  validateOptions(options);
  const workDir = options.workDir ?? (await mkdtemp(join(tmpdir(), `${options.prefix}-`)));
  const ownsWorkDir = options.workDir === undefined && !(options.keepWorkDir ?? false);
  const topo = new LabTopology(
    options.prefix,
    workDir,
    options.leaseSeconds ?? 10,
    options.keaOptionData ?? [],
    {
      pool: options.pool,
      reserveNodes: options.reserveNodes,
      authoritative: options.authoritative,
      classPools: options.classPools,
    },
    ownsWorkDir,
  );
  try {
    await topo.build(options.nodes);
    if (options.startKea ?? true) await topo.startKea();
  } catch (error) {
    await topo.destroy().catch(() => undefined);
    throw error;
  }
  return topo;
}
