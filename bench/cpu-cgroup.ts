/**
 * A CPU cgroup the benchmarks make and remove, with a weight: on cgroup v2 `cpu.weight`, on
 * a v1 hierarchy `cpu.shares` (systemd maps CPUWeight=W to shares W × 1024 / 100 there).
 * Made directly under the root, as siblings, so a weight set here competes the way a unit's
 * CPUWeight= competes with its sibling cgroups. A process joins by writing its pid into
 * `procs` before it execs what is measured, so every child it forks is in it too.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const V2_ROOT = "/sys/fs/cgroup";
const V1_CPU_ROOT = "/sys/fs/cgroup/cpu";

export interface CpuCgroup {
  readonly path: string;
  /** the file a process writes its pid into to join */
  readonly procs: string;
  /** "cpu.weight 1000" or "cpu.shares 10240": what was set, as the kernel has it */
  readonly setting: string;
  /** argv that runs `argv` inside this cgroup (sh moves itself in, then execs) */
  wrap(argv: readonly string[]): string[];
  remove(): Promise<void>;
}

export function cgroupVersion(): "v2" | "v1" | undefined {
  if (existsSync(join(V2_ROOT, "cgroup.controllers"))) return "v2";
  if (existsSync(join(V1_CPU_ROOT, "cpu.shares"))) return "v1";
  return undefined;
}

/** A cgroup named `name` with CPU weight `weight` (1-10000, systemd's CPUWeight= scale; 100 is the default). */
export function createCpuCgroup(name: string, weight: number): CpuCgroup {
  const version = cgroupVersion();
  if (version === undefined) throw new Error("no cgroup v2 hierarchy and no v1 cpu controller");
  const path = join(version === "v2" ? V2_ROOT : V1_CPU_ROOT, name);
  mkdirSync(path);
  const file = version === "v2" ? "cpu.weight" : "cpu.shares";
  writeFileSync(join(path, file), String(version === "v2" ? weight : Math.round((weight * 1024) / 100)));
  const procs = join(path, "cgroup.procs");
  return {
    path,
    procs,
    setting: `${file} ${readFileSync(join(path, file), "utf8").trim()}`,
    // `ip netns exec` mounts a sysfs of its own over /sys: reach the cgroup through this
    // process's root, which is in the mount namespace that has the real one
    wrap: (argv) => ["sh", "-c", `echo $$ > /proc/${process.pid}/root${procs} && exec "$@"`, "sh", ...argv],
    async remove() {
      // the processes were killed; the kernel refuses rmdir until they are gone
      for (let i = 0; existsSync(path); i++) {
        try {
          rmdirSync(path);
        } catch (error) {
          if (i >= 100) throw error;
          await sleep(50);
        }
      }
    },
  };
}
