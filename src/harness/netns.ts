import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { run, runChecked, signalGroup, signalPid, type RunOptions, type RunResult } from "../util/exec.js";

/** `ip netns add` keeps its bind mounts here; a name present here is a live namespace. */
const NETNS_RUN_DIR = "/run/netns";
/** `ip netns exec` bind-mounts files from here over /etc, so clients never see the host's resolver. */
const NETNS_ETC_DIR = "/etc/netns";
/** How long SIGTERM gets before the group is SIGKILLed on destroy. */
const TERM_GRACE_MS = 1500;
/** How long destroy waits for the kernel to report the namespace empty. */
const DRAIN_TIMEOUT_MS = 5000;

export interface NsSpawnOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** log file path; stdout and stderr are appended to it (default: discarded) */
  readonly stdout?: string;
}

export interface NsExit {
  readonly code: number | null;
  readonly signal: string | null;
}

export interface NsProcess {
  readonly pid: number;
  readonly exited: Promise<NsExit>;
  /** signals the whole process group the process leads */
  kill(signal?: NodeJS.Signals): void;
}

/**
 * A network namespace this process made, and every process it started in it. Nothing here
 * ever touches the root namespace: all configuration goes through `ip -n` / `ip netns exec`.
 */
export class Netns {
  readonly name: string;
  private readonly tracked = new Set<NsProcess>();
  private destroyed = false;

  private constructor(name: string) {
    this.name = name;
  }

  /** `ip netns add`, loopback up, and a private resolv.conf so client scripts can't touch the host's. */
  static async create(name: string): Promise<Netns> {
    validateName(name);
    await runChecked(run, "ip", ["netns", "add", name], { timeoutMs: 10_000 });
    const ns = new Netns(name);
    try {
      await mkdir(`${NETNS_ETC_DIR}/${name}`, { recursive: true });
      await writeFile(
        `${NETNS_ETC_DIR}/${name}/resolv.conf`,
        `# holdfast lab namespace ${name}: private resolver file\n`,
      );
      await runChecked(run, "ip", ["-n", name, "link", "set", "lo", "up"], { timeoutMs: 10_000 });
    } catch (error) {
      await ns.destroy();
      throw error;
    }
    return ns;
  }

  /** A handle on a namespace that already exists (leftovers of an earlier run), so it can be destroyed. */
  static adopt(name: string): Netns {
    validateName(name);
    return new Netns(name);
  }

  /** Runs one command inside the namespace and waits for it (own process group, deadline, reaped). */
  exec(file: string, args: readonly string[], options?: RunOptions): Promise<RunResult> {
    return run("ip", ["netns", "exec", this.name, file, ...args], options);
  }

  /**
   * Starts a long-running process inside the namespace in its own process group. `ip netns
   * exec` execs the program after setns, so the pid is the program's own.
   */
  spawn(file: string, args: readonly string[], options: NsSpawnOptions = {}): NsProcess {
    if (this.destroyed) throw new Error(`namespace already destroyed: ${this.name}`);
    const log = options.stdout === undefined ? "ignore" : openSync(options.stdout, "a");
    let child;
    try {
      child = spawn("ip", ["netns", "exec", this.name, file, ...args], {
        detached: true,
        stdio: ["ignore", log, log],
        env: options.env ?? process.env,
        cwd: options.cwd,
      });
    } finally {
      if (typeof log === "number") closeSync(log);
    }
    // listening before anything can throw: a spawn failure (no `ip`) is emitted as 'error'
    // after we return, and an unheard 'error' event would end the lab mid-run
    const exited = new Promise<NsExit>((resolve) => {
      child.on("exit", (code, signal) => resolve({ code, signal }));
      child.on("error", () => resolve({ code: null, signal: null }));
    });
    if (child.pid === undefined) {
      throw new Error(`could not start ${file} in namespace ${this.name}: \`ip netns exec\` did not start`);
    }
    const pid = child.pid;
    const tracked: NsProcess = {
      pid,
      exited,
      kill: (signal: NodeJS.Signals = "SIGTERM") => {
        signalGroup(pid, signal);
      },
    };
    this.tracked.add(tracked);
    // The group may outlive its leader (forked helpers); keep it tracked until destroy.
    return tracked;
  }

  /** Pids of every process whose network namespace is this one (`ip netns pids`). */
  async pids(): Promise<number[]> {
    if (!existsSync(`${NETNS_RUN_DIR}/${this.name}`)) return [];
    const result = await run("ip", ["netns", "pids", this.name], { timeoutMs: 10_000 });
    if (result.code !== 0) return [];
    return result.stdout
      .split(/\s+/)
      .filter((word) => /^\d+$/.test(word))
      .map(Number);
  }

  /**
   * Ends every process in the namespace, then deletes it and its /etc/netns directory.
   * Safe to call twice and on a namespace that is already gone.
   */
  async destroy(): Promise<void> {
    this.destroyed = true;
    await this.endTracked();
    await this.endRemaining();
    if (existsSync(`${NETNS_RUN_DIR}/${this.name}`)) {
      const result = await run("ip", ["netns", "del", this.name], { timeoutMs: 10_000 });
      if (result.code !== 0 && existsSync(`${NETNS_RUN_DIR}/${this.name}`)) {
        throw new Error(`ip netns del ${this.name}: ${result.stderr.trim()}`);
      }
    }
    await rm(`${NETNS_ETC_DIR}/${this.name}`, { recursive: true, force: true });
  }

  private async endTracked(): Promise<void> {
    const live = [...this.tracked];
    if (live.length === 0) return;
    for (const proc of live) {
      signalGroup(proc.pid, "SIGTERM");
      // a SIGSTOPped process (silenced Kea) only acts on SIGTERM once continued
      signalGroup(proc.pid, "SIGCONT");
    }
    const deadline = Date.now() + TERM_GRACE_MS;
    for (const proc of live) {
      await Promise.race([proc.exited, sleep(Math.max(0, deadline - Date.now()))]);
    }
    for (const proc of live) {
      signalGroup(proc.pid, "SIGKILL");
      await Promise.race([proc.exited, sleep(TERM_GRACE_MS)]);
      this.tracked.delete(proc);
    }
  }

  /** Anything else still in the namespace was started by this run (it made the namespace). */
  private async endRemaining(): Promise<void> {
    const deadline = Date.now() + DRAIN_TIMEOUT_MS;
    for (;;) {
      const pids = await this.pids();
      if (pids.length === 0) return;
      if (Date.now() > deadline) {
        throw new Error(`processes still in namespace ${this.name} after SIGKILL: ${pids.join(" ")}`);
      }
      for (const pid of pids) signalPid(pid, "SIGKILL");
      await sleep(50);
    }
  }
}

/** Namespace names become paths under /run/netns and /etc/netns: keep them plain. */
function validateName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(name)) {
    throw new Error(`invalid namespace name ${JSON.stringify(name)}: expected [A-Za-z0-9_.-], 1..64 chars`);
  }
}

/** Names of existing namespaces (`ip netns list` prints "name (id: N)" or just "name"). */
export async function listNamespaces(): Promise<string[]> {
  const stdout = await runChecked(run, "ip", ["netns", "list"], { timeoutMs: 10_000 });
  return stdout
    .split("\n")
    .map((line) => line.trim().split(/\s+/)[0] ?? "")
    .filter((name) => name !== "");
}
