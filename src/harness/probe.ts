import { createWriteStream, readFileSync } from "node:fs";
import { request } from "node:http";

/** One HTTP probe from the runner to the node's /up, by the time it was sent. */
export interface ProbeSample {
  readonly t: number;
  readonly ok: boolean;
  /** how long the probe took (until answer, error or timeout) */
  readonly ms: number;
  readonly error?: string;
}

export const PROBE_INTERVAL_MS = 100;
export const PROBE_TIMEOUT_MS = 300;

export interface ProbeTarget {
  /** the run this target belongs to (the node's name) */
  readonly name: string;
  readonly url: string;
}

/** One line of the probe log. */
interface ProbeLine {
  readonly n: string;
  readonly t: number;
  readonly ok: boolean;
  readonly ms: number;
  readonly e?: string;
}

/**
 * One GET with a fresh TCP connection (no keep-alive), so every probe tests that the
 * node still answers ARP for its address, as a runner's new request would.
 */
export function probeOnce(url: string, timeoutMs: number): Promise<{ ok: boolean; error?: string }> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (ok: boolean, error?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(error === undefined ? { ok } : { ok, error });
    };
    const req = request(url, { agent: false, headers: { connection: "close" } }, (res) => {
      res.resume();
      done(res.statusCode === 200, res.statusCode === 200 ? undefined : `HTTP ${res.statusCode ?? "?"}`);
    });
    const timer = setTimeout(() => done(false, "timeout"), timeoutMs);
    req.on("error", (error: NodeJS.ErrnoException) => done(false, error.code ?? error.message));
    req.end();
  });
}

export interface ProbeLoopOptions {
  readonly targets: readonly ProbeTarget[];
  readonly out: string;
  readonly intervalMs?: number;
  readonly timeoutMs?: number;
}

/**
 * Probes every target every interval, regardless of probes still in flight (a slow
 * probe must not thin out the record), and appends one JSON line per probe. Runs until
 * SIGTERM/SIGINT, then flushes the log and exits.
 */
export function runProbeLoop(options: ProbeLoopOptions): Promise<void> {
  const out = createWriteStream(options.out, { flags: "a" });
  const timeoutMs = options.timeoutMs ?? PROBE_TIMEOUT_MS;
  const tick = (): void => {
    for (const target of options.targets) {
      const t = Date.now();
      void probeOnce(target.url, timeoutMs).then((result) => {
        const line: ProbeLine = { n: target.name, t, ok: result.ok, ms: Date.now() - t };
        out.write(`${JSON.stringify(result.error === undefined ? line : { ...line, e: result.error })}\n`);
      });
    }
  };
  tick();
  const timer = setInterval(tick, options.intervalMs ?? PROBE_INTERVAL_MS);
  return new Promise((resolve) => {
    const stop = (): void => {
      clearInterval(timer);
      // Probes in flight finish within their timeout; give them that long to be logged.
      setTimeout(() => out.end(() => resolve()), timeoutMs + 50);
    };
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
}

/** Reads a probe log into samples per target name; a torn last line is ignored. */
export function readProbeLog(path: string): Map<string, ProbeSample[]> {
  const byName = new Map<string, ProbeSample[]>();
  let text = "";
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return byName;
  }
  for (const raw of text.split("\n")) {
    if (!raw.trim()) continue;
    let line: ProbeLine;
    try {
      line = JSON.parse(raw) as ProbeLine;
    } catch {
      continue;
    }
    const sample: ProbeSample =
      line.e === undefined
        ? { t: line.t, ok: line.ok, ms: line.ms }
        : { t: line.t, ok: line.ok, ms: line.ms, error: line.e };
    const list = byName.get(line.n) ?? [];
    list.push(sample);
    byName.set(line.n, list);
  }
  for (const list of byName.values()) list.sort((a, b) => a.t - b.t);
  return byName;
}
