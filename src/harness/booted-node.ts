import { mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { run, signalPid, type RunOptions, type RunResult } from "../util/exec.js";
import type { Netns } from "./netns.js";
import { installRunNoexec } from "./node-run-noexec.js";
import { cgroupRoots, cleanStaleNodeCgroups, NodeCgroup } from "./nspawn-cgroup.js";
import { ensureIdentity, type NodeIdentity } from "./node-identity.js";
import { findLeader, NSPAWN_REBOOT_EXIT, startNspawn, type NspawnProcess } from "./nspawn.js";

/**
 * A real systemd Debian booted with systemd-nspawn inside a lab node's network namespace
 * (design §5): it sees the node's pn0, runs units, reboots, and keeps its disk (an overlay
 * upper layer in its own directory) across reboots, like a server would.
 */
export interface BootNodeOptions {
  /** the shared read-only tree from scripts/build-rootfs.sh */
  readonly rootfs: string;
  /** the node's network namespace (or its name under /run/netns) */
  readonly ns: Netns | string;
  /** the node's hostname inside, e.g. "n1" */
  readonly name: string;
  /** the node's disk and logs go to <workDir>/<machine> */
  readonly workDir: string;
  /** how long a boot may take to reach running/degraded @default 60000 */
  readonly bootTimeoutMs?: number;
}

export interface BootedNode {
  readonly name: string;
  /** host-unique container name: the namespace name */
  readonly machine: string;
  readonly dir: string;
  /** the node's writable layer: what survives reboots */
  readonly upperDir: string;
  /** container console and nspawn messages */
  readonly consoleLog: string;
  readonly identity: NodeIdentity;
  /** pid (in the host's pid namespace) of the container's systemd; changes on every boot */
  readonly leaderPid: number;
  /** runs a command inside the container as root (all of its namespaces) */
  exec(file: string, args: readonly string[], options?: RunOptions): Promise<RunResult>;
  /** waits until systemd says running or degraded; resolves with that state */
  waitBooted(timeoutMs?: number): Promise<string>;
  /** names of failed units (what made a boot "degraded") */
  failedUnits(): Promise<string[]>;
  /** `systemctl reboot` inside; resolves once the next boot is up */
  reboot(): Promise<void>;
  /** power cut: SIGKILL the container's init, then boot again from the same disk */
  reset(): Promise<void>;
  /** `systemctl poweroff` inside; the node stays off until boot() */
  poweroff(): Promise<void>;
  boot(): Promise<void>;
  /** ends every process of the node and removes its directory; safe to call twice */
  destroy(): Promise<void>;
}

const DEFAULT_BOOT_TIMEOUT_MS = 60_000;
const LEADER_TIMEOUT_MS = 30_000;
const SHUTDOWN_TIMEOUT_MS = 30_000;
const CONTAINER_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

interface Launch extends NspawnProcess {
  leader?: number;
}

function kill(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid !== undefined) signalPid(pid, signal);
}

async function within<T>(promise: Promise<T>, ms: number): Promise<T | "timeout"> {
  const timer = new AbortController();
  try {
    return await Promise.race([promise, sleep(ms, "timeout" as const, { signal: timer.signal })]);
  } finally {
    timer.abort();
  }
}

class NspawnNode implements BootedNode {
  readonly machine: string;
  readonly dir: string;
  readonly upperDir: string;
  readonly consoleLog: string;
  identity!: NodeIdentity;
  private readonly cgroup: NodeCgroup;
  private readonly nsPath: string;
  private current: Launch | undefined;
  private destroying = false;

  constructor(private readonly options: BootNodeOptions) {
    this.machine = typeof options.ns === "string" ? options.ns : options.ns.name;
    this.nsPath = `/run/netns/${this.machine}`;
    this.dir = join(options.workDir, this.machine);
    this.upperDir = join(this.dir, "upper");
    this.consoleLog = join(this.dir, "console.log");
    this.cgroup = new NodeCgroup(this.machine);
  }

  get name(): string {
    return this.options.name;
  }

  get leaderPid(): number {
    const leader = this.current?.leader;
    if (leader === undefined) throw new Error(`${this.machine}: not booted`);
    return leader;
  }

  async prepare(): Promise<void> {
    await mkdir(this.upperDir, { recursive: true });
    this.identity = await ensureIdentity(this.upperDir, this.options.name);
    await installRunNoexec(this.upperDir);
    await this.cgroup.create();
  }

  exec(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const env = { PATH: CONTAINER_PATH, HOME: "/root", LANG: "C.UTF-8", TERM: "dumb", ...options.env };
    return run("nsenter", ["--target", String(this.leaderPid), "--all", "--", file, ...args], {
      timeoutMs: 60_000,
      ...options,
      env,
    });
  }

  async waitBooted(timeoutMs = this.options.bootTimeoutMs ?? DEFAULT_BOOT_TIMEOUT_MS): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let last = "";
    while (Date.now() < deadline) {
      if (this.current?.leader !== undefined) {
        // --wait fails fast while systemd's private socket is not up yet; then we retry
        const result = await this.exec("systemctl", ["is-system-running", "--wait"], {
          timeoutMs: Math.max(1000, deadline - Date.now()),
        });
        last = (result.stdout.trim() || result.stderr.trim()).split("\n").pop() ?? "";
        if (last === "running" || last === "degraded") return last;
      }
      await sleep(100);
    }
    const failed = await this.failedUnits().catch(() => []);
    throw new Error(
      `${this.machine}: not booted after ${timeoutMs} ms (last state: ${last || "still starting"}; ` +
        `failed units: ${failed.join(" ") || "none"})${await this.consoleTail(failed)}`,
    );
  }

  async failedUnits(): Promise<string[]> {
    const result = await this.exec("systemctl", ["list-units", "--failed", "--plain", "--no-legend"], {
      timeoutMs: 10_000,
    });
    return result.stdout
      .split("\n")
      .map((line) => line.split(" ")[0] ?? "")
      .filter((unit) => unit !== "");
  }

  /** The end of the console, and the usual reason when many nodes run at once. */
  private async consoleTail(failedUnits: readonly string[] = []): Promise<string> {
    const log = await readFile(this.consoleLog, "utf8").catch(() => "");
    // path units are inotify watches: they are the first to fail when instances run out
    const hint =
      /Too many open files|inotify/i.test(log) || failedUnits.some((unit) => unit.endsWith(".path"))
        ? "\n(hint: every booted node's systemd takes ~7 inotify instances from host root; " +
          "fs.inotify.max_user_instances, default 128, caps concurrent nodes at ~18)"
        : "";
    return `\nconsole ${this.consoleLog}:\n${log.split("\n").slice(-15).join("\n")}${hint}`;
  }

  async boot(): Promise<void> {
    if (this.current !== undefined) throw new Error(`${this.machine}: already running`);
    this.current = this.launch();
    await this.waitLeader(this.current);
    await this.waitBooted();
  }

  async reboot(): Promise<void> {
    const old = this.running();
    await this.exec("systemctl", ["reboot"], { timeoutMs: 10_000 });
    const code = await within(old.exited, SHUTDOWN_TIMEOUT_MS);
    if (code !== NSPAWN_REBOOT_EXIT)
      throw new Error(`${this.machine}: reboot ended with ${String(code)}, not ${NSPAWN_REBOOT_EXIT}`);
    // the exit handler has already launched the next boot
    await this.waitLeader(this.running());
    await this.waitBooted();
  }

  async reset(): Promise<void> {
    const old = this.running();
    this.current = undefined; // so the exit handler does not count this as a reboot
    kill(old.leader, "SIGKILL");
    await this.awaitExit(old);
    await this.boot();
  }

  async poweroff(): Promise<void> {
    const old = this.running();
    await this.exec("systemctl", ["poweroff"], { timeoutMs: 10_000 });
    const code = await within(old.exited, SHUTDOWN_TIMEOUT_MS);
    if (code === "timeout")
      throw new Error(`${this.machine}: still running ${SHUTDOWN_TIMEOUT_MS} ms after poweroff`);
  }

  async destroy(): Promise<void> {
    this.destroying = true;
    const old = this.current;
    this.current = undefined;
    if (old !== undefined) {
      // a power cut is instant and certain; nobody needs a clean shutdown of a test node
      kill(old.leader ?? findLeader(old.pid), "SIGKILL");
      await this.awaitExit(old);
    }
    await this.cgroup.remove();
    // nspawn leaves its per-machine propagation directory behind when /run is not tmpfs
    await rm(`/run/systemd/nspawn/propagate/${this.machine}`, { recursive: true, force: true });
    await rm(this.dir, { recursive: true, force: true });
  }

  private running(): Launch {
    if (this.current === undefined) throw new Error(`${this.machine}: not running`);
    return this.current;
  }

  private async awaitExit(launch: Launch): Promise<void> {
    if ((await within(launch.exited, 10_000)) === "timeout") {
      kill(launch.pid, "SIGKILL");
      await within(launch.exited, 5000);
    }
  }

  private async waitLeader(launch: Launch): Promise<void> {
    const deadline = Date.now() + LEADER_TIMEOUT_MS;
    let exited = false;
    void launch.exited.then(() => (exited = true));
    while (Date.now() < deadline && !exited) {
      launch.leader = findLeader(launch.pid);
      if (launch.leader !== undefined) return;
      await sleep(20);
    }
    throw new Error(
      `${this.machine}: container did not start (${exited ? "nspawn exited" : "timeout"})${await this.consoleTail()}`,
    );
  }

  private launch(): Launch {
    const launch: Launch = startNspawn({
      rootfs: this.options.rootfs,
      upperDir: this.upperDir,
      machine: this.machine,
      netnsPath: this.nsPath,
      cgroupProcs: this.cgroup.procsFiles,
      consoleLog: this.consoleLog,
    });
    // registered before anyone else awaits `exited`, so reboot() finds the next boot in place
    void launch.exited.then((code) => {
      if (this.current === launch) this.current = undefined;
      // the container rebooted itself (systemctl reboot, a script): boot again like firmware would
      if (code === NSPAWN_REBOOT_EXIT && !this.destroying && this.current === undefined) {
        try {
          this.current = this.launch();
          this.waitLeader(this.current).catch(() => undefined);
        } catch {
          // nspawn could not be started again: the node stays off, callers see "not running"
        }
      }
    });
    return launch;
  }
}

/** Boots a node and waits until its systemd reports running (or degraded). */
export async function bootNode(options: BootNodeOptions): Promise<BootedNode> {
  const node = new NspawnNode(options);
  try {
    await node.prepare();
    await node.boot();
  } catch (error) {
    await node.destroy().catch(() => undefined);
    throw error;
  }
  return node;
}

/**
 * For `holdfast lab --clean`: ends leftover booted nodes whose machine (namespace) name
 * starts with prefix, except those `keep` spares, and removes their cgroups. Their disks
 * live in the run's work dir.
 */
export async function cleanStaleNodes(
  prefix: string,
  keep: (machine: string) => boolean = () => false,
): Promise<string[]> {
  const machines = await cleanStaleNodeCgroups(prefix, cgroupRoots(), keep);
  for (const machine of machines) {
    await rm(`/run/systemd/nspawn/propagate/${machine}`, { recursive: true, force: true });
  }
  return machines;
}
