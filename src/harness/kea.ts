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
}

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
      "renew-timer": Math.max(1, Math.floor(lease * 0.5)),
      "rebind-timer": Math.max(1, Math.floor(lease * 0.875)),
      "expired-leases-processing": { "reclaim-timer-wait-time": 1, "hold-reclaimed-time": 0 },
      subnet4: [
        {
          id: 1,
          subnet: options.subnet,
          // selects the subnet by interface: the server's interface carries two addresses
          interface: options.interface,
          pools: [{ pool: options.pool }],
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
  return new KeaProcess(proc, logPath);
}

class KeaProcess implements KeaServer {
  private exitedAt: { code: number | null; signal: string | null } | undefined;

  constructor(
    private readonly proc: NsProcess,
    private readonly logPath: string,
  ) {
    void proc.exited.then((exit) => (this.exitedAt = exit));
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
