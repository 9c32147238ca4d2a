import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Netns, NsProcess } from "../../src/harness/netns.js";
import { readProbeLog, type ProbeTarget } from "../../src/harness/probe.js";
import { spawnProber, spawnUpServer, upUrl } from "../../src/harness/instruments.js";
import type { ProbeSample } from "../../src/lab/timeline.js";

/**
 * The lab's instruments for a test: the /up server in a node namespace and the runner's
 * probe loop (every 100 ms, a fresh connection each), both run from the bundle like
 * `holdfast lab` runs them, so they are independent of whatever the test does to the node.
 */
export interface ProbeRecorder {
  /** every probe of target `name` so far, by send time */
  samples(name: string): ProbeSample[];
  /** failed / total probes of `name` sent in [from, to) */
  count(name: string, from: number, to?: number): { failures: number; total: number };
  /** the first successful probe of `name` sent at or after `from`, waiting up to timeoutMs */
  firstOk(name: string, from: number, timeoutMs: number): Promise<ProbeSample | undefined>;
  stop(): void;
}

/** Starts `lab-serve` on UP_PORT in the node namespace; ended with the namespace or kill(). */
export function spawnUpServerIn(ns: Netns, logDir: string): NsProcess {
  return spawnUpServer(ns, join(logDir, `up-${ns.name}.log`));
}

export { upUrl };

/** Starts `lab-probe` in the runner namespace, logging to <logDir>/probes.jsonl. */
export function startProbes(
  runner: Netns,
  targets: readonly ProbeTarget[],
  logDir: string,
  /** per probe; the lab's default when unset. 1000 ms keeps a busy machine from failing a probe
   * for slowness, while a missing address still fails one (the dropped SYN is retried after 1 s) */
  timeoutMs?: number,
): ProbeRecorder {
  const out = join(logDir, "probes.jsonl");
  const proc = spawnProber(runner, {
    targets,
    out,
    logFile: join(logDir, "probe.log"),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  });
  const samples = (name: string): ProbeSample[] => readProbeLog(out).get(name) ?? [];
  return {
    samples,
    count(name, from, to = Number.POSITIVE_INFINITY) {
      const window = samples(name).filter((s) => s.t >= from && s.t < to);
      return { failures: window.filter((s) => !s.ok).length, total: window.length };
    },
    async firstOk(name, from, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const ok = samples(name).find((s) => s.t >= from && s.ok);
        if (ok !== undefined || Date.now() > deadline) return ok;
        await sleep(100);
      }
    },
    stop: () => proc.kill("SIGTERM"),
  };
}
