import { readFile, writeFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Netns, NsProcess } from "./netns.js";

export interface Reservation {
  readonly mac: string;
  readonly ip: string;
  /** options for this host alone (they override the subnet's of the same code) @default none */
  readonly optionData?: readonly KeaOptionData[];
}

/** One entry of Kea's `option-data`, passed through as is (e.g. routers, classless routes). */
export interface KeaOptionData {
  readonly name?: string;
  readonly code?: number;
  readonly data: string;
  readonly "csv-format"?: boolean;
  readonly "always-send"?: boolean;
}

export interface KeaOptions {
  /** interface inside the server's namespace that Kea serves */
  readonly interface: string;
  readonly leaseSeconds: number;
  readonly subnet: "198.18.0.0/22";
  /** Kea pool syntax: "198.18.1.0 - 198.18.1.255" */
  readonly pool: string;
  readonly reservations: readonly Reservation[];
  readonly workDir: string;
  /**
   * Server identifier (option 54) Kea puts in its answers.
   * @default "169.254.169.254", like Scaleway's PN DHCP server
   */
  readonly serverId?: string;
  /** extra subnet options, e.g. `{ name: "routers", data: "198.18.0.1" }` @default none */
  readonly optionData?: readonly KeaOptionData[];
  /**
   * NAK a REQUEST for an address the server does not give this client, also one it has no
   * lease record for (RFC 2131 §4.3.2; Kea's default drops those silently). @default false
   */
  readonly authoritative?: boolean;
  /**
   * One-address pools, each only for the clients of one class (matched by MAC): every lab
   * node gets a pool of its own that a second client may ask for. Replaces `pool` when set.
   */
  readonly classPools?: readonly ClassPool[];
}

export interface ClassPool {
  /** class name, e.g. the node's name */
  readonly name: string;
  readonly macs: readonly string[];
  readonly ip: string;
}

/** Kea's expression for "the client's MAC is one of these". */
const macTest = (macs: readonly string[]): string =>
  macs.map((mac) => `pkt4.mac == 0x${mac.replace(/:/g, "")}`).join(" or ");

/** What a running Kea can be reconfigured with (IPAM moving a reservation, a pool change). */
export type KeaChange = Partial<Pick<KeaOptions, "reservations" | "pool" | "leaseSeconds" | "authoritative">>;

export interface KeaServer {
  readonly pid: number;
  /** the server stops answering (SIGSTOP): the incident's silent DHCP server */
  silence(): void;
  /** SIGCONT after silence() */
  resume(): void;
  /** SIGTERM, then SIGKILL after a grace period; resolves once the process is reaped */
  stop(): Promise<void>;
  /** resolves once Kea logged that it is serving; rejects if it exits or takes too long */
  waitReady(): Promise<void>;
  /** the options Kea serves now */
  readonly options: KeaOptions;
  /** rewrites the config and SIGHUPs Kea; resolves once it logged the new config committed */
  reload(change: KeaChange): Promise<void>;
  /** the lease file's rows for one address, oldest first (memfile appends every change) */
  leases(ip: string): Promise<KeaLeaseRow[]>;
}

/** One row of Kea's memfile (kea-leases4.csv). */
export interface KeaLeaseRow {
  readonly address: string;
  readonly hwaddr: string;
  readonly validLifetime: number;
  /** Unix seconds */
  readonly expire: number;
  /** 0 default, 1 declined, 2 expired-reclaimed */
  readonly state: number;
}

const READY_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 2_000;
/** Kea logs this once its configuration (sockets included) is committed and it serves. */
const READY_MESSAGE = "DHCP4_STARTED";

/** Kea's config: raw sockets (clients have no address yet), one subnet pinned to the interface. */
export function renderKeaConfig(options: KeaOptions): object {
  const lease = options.leaseSeconds;
  return {
    Dhcp4: {
      "interfaces-config": { interfaces: [options.interface], "dhcp-socket-type": "raw" },
      "lease-database": {
        type: "memfile",
        persist: true,
        name: join(options.workDir, "kea-leases4.csv"),
        // no kea-lfc child process to track
        "lfc-interval": 0,
      },
      // RFC 2131 §4.4.5 defaults: T1 = 0.5, T2 = 0.875 of the lease
      "valid-lifetime": lease,
      authoritative: options.authoritative ?? false,
      "renew-timer": Math.max(1, Math.floor(lease * 0.5)),
      "rebind-timer": Math.max(1, Math.floor(lease * 0.875)),
      ...(options.classPools === undefined
        ? {}
        : { "client-classes": options.classPools.map((c) => ({ name: c.name, test: macTest(c.macs) })) }),
      "expired-leases-processing": { "reclaim-timer-wait-time": 1, "hold-reclaimed-time": 0 },
      subnet4: [
        {
          id: 1,
          subnet: options.subnet,
          // selects the subnet by interface: the server's interface carries two addresses
          interface: options.interface,
          pools:
            options.classPools !== undefined
              ? options.classPools.map((c) => ({ pool: `${c.ip} - ${c.ip}`, "client-class": c.name }))
              : options.pool === ""
                ? []
                : [{ pool: options.pool }],
          "option-data": [
            { name: "dhcp-server-identifier", data: options.serverId ?? "169.254.169.254" },
            ...(options.optionData ?? []),
          ],
          reservations: options.reservations.map((r) => ({
            "hw-address": r.mac,
            "ip-address": r.ip,
            ...(r.optionData === undefined ? {} : { "option-data": r.optionData }),
          })),
        },
      ],
      loggers: [
        {
          name: "kea-dhcp4",
          severity: "INFO",
          output_options: [{ output: join(options.workDir, "kea.log"), flush: true }],
        },
      ],
    },
  };
}

/** Starts kea-dhcp4 in the namespace with every file (config, leases, pid, lock, log) in workDir. */
export async function startKea(ns: Netns, options: KeaOptions): Promise<KeaServer> {
  await mkdir(options.workDir, { recursive: true });
  const configPath = join(options.workDir, "kea-dhcp4.json");
  const logPath = join(options.workDir, "kea.log");
  await writeFile(configPath, JSON.stringify(renderKeaConfig(options), null, 2));
  await writeFile(logPath, "");
  const proc = ns.spawn("kea-dhcp4", ["-c", configPath], {
    env: { ...process.env, KEA_LOCKFILE_DIR: options.workDir, KEA_PIDFILE_DIR: options.workDir },
    stdout: join(options.workDir, "kea.stdout"),
  });
  return new KeaProcess(proc, logPath, configPath, options);
}

/** Kea logs this once a SIGHUP's new configuration is in use. */
const RELOADED_MESSAGE = "DHCP4_DYNAMIC_RECONFIGURATION_SUCCESS";

function parseLeaseRows(text: string, ip: string): KeaLeaseRow[] {
  return text
    .split("\n")
    .slice(1)
    .map((line) => line.split(","))
    .filter((cols) => cols[0] === ip)
    .map((cols) => ({
      address: cols[0] ?? "",
      hwaddr: cols[1] ?? "",
      validLifetime: Number(cols[3]),
      expire: Number(cols[4]),
      state: Number(cols[9]),
    }));
}

class KeaProcess implements KeaServer {
  private exitedAt: { code: number | null; signal: string | null } | undefined;

  constructor(
    private readonly proc: NsProcess,
    private readonly logPath: string,
    private readonly configPath: string,
    private current: KeaOptions,
  ) {
    void proc.exited.then((exit) => (this.exitedAt = exit));
  }

  get options(): KeaOptions {
    return this.current;
  }

  async reload(change: KeaChange): Promise<void> {
    const before = (await readFile(this.logPath, "utf8").catch(() => "")).split(RELOADED_MESSAGE).length;
    this.current = { ...this.current, ...change };
    await writeFile(this.configPath, JSON.stringify(renderKeaConfig(this.current), null, 2));
    this.proc.kill("SIGHUP");
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      const log = await readFile(this.logPath, "utf8").catch(() => "");
      if (log.split(RELOADED_MESSAGE).length > before) return;
      if (Date.now() > deadline)
        throw new Error(`kea-dhcp4 did not reload within ${READY_TIMEOUT_MS} ms; log: ${this.logPath}`);
      await sleep(25);
    }
  }

  async leases(ip: string): Promise<KeaLeaseRow[]> {
    const file = join(this.current.workDir, "kea-leases4.csv");
    return parseLeaseRows(await readFile(file, "utf8").catch(() => ""), ip);
  }

  get pid(): number {
    return this.proc.pid;
  }

  silence(): void {
    this.proc.kill("SIGSTOP");
  }

  resume(): void {
    this.proc.kill("SIGCONT");
  }

  async stop(): Promise<void> {
    if (this.exitedAt !== undefined) return;
    this.proc.kill("SIGTERM");
    this.proc.kill("SIGCONT");
    const exited = await Promise.race([this.proc.exited.then(() => true), sleep(STOP_GRACE_MS, false)]);
    if (!exited) {
      this.proc.kill("SIGKILL");
      await this.proc.exited;
    }
  }

  async waitReady(): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      const log = await readFile(this.logPath, "utf8").catch(() => "");
      if (log.includes(READY_MESSAGE)) return;
      if (this.exitedAt !== undefined) {
        throw new Error(
          `kea-dhcp4 exited (${this.exitedAt.code ?? this.exitedAt.signal}) before serving; log: ${this.logPath}\n${log.slice(-2000)}`,
        );
      }
      if (Date.now() > deadline)
        throw new Error(`kea-dhcp4 not ready after ${READY_TIMEOUT_MS} ms; log: ${this.logPath}`);
      await sleep(25);
    }
  }
}
