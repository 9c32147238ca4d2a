import { existsSync, readFileSync } from "node:fs";
import { mkdir, readdir, readFile, rmdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { signalPid } from "../util/exec.js";

/**
 * Where booted nodes live in the cgroup tree. The lab cannot ask a host systemd for a scope
 * (PID 1 may not be systemd at all, and `--register=no --keep-unit` means nspawn uses the
 * cgroup it was started in), so every container gets its own directory in each hierarchy
 * nspawn looks at. nspawn then splits it into `supervisor` and `payload` itself. Without
 * this, two containers started from the same cgroup would share one `payload`.
 */
const LAB_CGROUP = "holdfast-lab";

interface Mount {
  readonly mountPoint: string;
  readonly fsType: string;
  readonly superOptions: string;
}

/** /proc/self/mountinfo: "... mountpoint ... - fstype source superopts" */
function readMounts(): Mount[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => {
      const [left = "", right = ""] = line.split(" - ");
      const [fsType = "", , superOptions = ""] = right.split(" ");
      return { mountPoint: left.split(" ")[4] ?? "", fsType, superOptions };
    });
}

/**
 * The hierarchies nspawn uses for a container: the cgroup2 mount (unified or hybrid layout)
 * and the named `systemd` v1 hierarchy (hybrid or legacy layout).
 */
export function cgroupRoots(): string[] {
  const roots = new Set<string>();
  for (const mount of readMounts()) {
    if (!mount.mountPoint.startsWith("/sys/fs/cgroup")) continue;
    const namedSystemd = mount.fsType === "cgroup" && mount.superOptions.split(",").includes("name=systemd");
    if (mount.fsType === "cgroup2" || namedSystemd) roots.add(mount.mountPoint);
  }
  return [...roots];
}

/** One container's cgroup directory in every hierarchy nspawn uses. */
export class NodeCgroup {
  readonly dirs: readonly string[];

  constructor(machine: string, roots: readonly string[] = cgroupRoots()) {
    this.dirs = roots.map((root) => join(root, LAB_CGROUP, machine));
  }

  /** Files a launcher writes its own pid into before it execs nspawn. */
  get procsFiles(): string[] {
    return this.dirs.map((dir) => join(dir, "cgroup.procs"));
  }

  async create(): Promise<void> {
    for (const dir of this.dirs) await mkdir(dir, { recursive: true });
  }

  /** Every pid still in the container's subtree (nspawn, the payload, strays). */
  async pids(): Promise<number[]> {
    const found = new Set<number>();
    for (const dir of this.dirs) for (const pid of await subtreePids(dir)) found.add(pid);
    return [...found];
  }

  /**
   * Kills whatever is left in the subtree and removes the directories, deepest first. The
   * kernel refuses to remove a cgroup that still has members, so it waits for them to go.
   */
  async remove(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const pids = await this.pids();
      if (pids.length === 0) break;
      if (Date.now() > deadline)
        throw new Error(`cgroup ${this.dirs[0] ?? ""} still has processes: ${pids.join(" ")}`);
      for (const pid of pids) signalPid(pid, "SIGKILL");
      await sleep(50);
    }
    for (const dir of this.dirs) {
      await removeTree(dir);
      // the shared parent goes too once the last node is gone; busy means others still run
      await rmdir(dirname(dir)).catch(() => undefined);
    }
  }
}

async function subDirs(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.filter((entry) => entry.isDirectory()).map((entry) => join(dir, entry.name));
  } catch {
    return []; // already removed
  }
}

async function subtreePids(dir: string): Promise<number[]> {
  if (!existsSync(dir)) return [];
  const own = await readFile(join(dir, "cgroup.procs"), "utf8").catch(() => "");
  const pids = own
    .split("\n")
    .filter((line) => /^\d+$/.test(line))
    .map(Number);
  for (const child of await subDirs(dir)) pids.push(...(await subtreePids(child)));
  return pids;
}

async function removeTree(dir: string): Promise<void> {
  for (const child of await subDirs(dir)) await removeTree(child);
  try {
    await rmdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}

/**
 * Removes the cgroups of nodes whose machine name starts with prefix, killing what is left
 * in them (a run that died before destroy), except those `keep` spares (a live run's).
 * Returns the machine names it removed.
 */
export async function cleanStaleNodeCgroups(
  prefix: string,
  roots: readonly string[] = cgroupRoots(),
  keep: (machine: string) => boolean = () => false,
): Promise<string[]> {
  const machines = new Set<string>();
  for (const root of roots) {
    for (const dir of await subDirs(join(root, LAB_CGROUP))) {
      const machine = dir.slice(dir.lastIndexOf("/") + 1);
      if (machine.startsWith(prefix) && !keep(machine)) machines.add(machine);
    }
  }
  for (const machine of machines) await new NodeCgroup(machine, roots).remove();
  return [...machines].sort();
}
