import type { Netns, NsProcess } from "./netns.js";
import type { ProbeTarget } from "./probe.js";
import { selfCommand } from "./bundle-path.js";
import { UP_PORT } from "./up-server.js";

/**
 * The lab's instruments, started from the bundle inside namespaces the way `holdfast lab`
 * runs them, so they are independent of the implementation under test: the /up server on
 * a node (the cache port stand-in) and the runner's probe loop.
 */

/** The /up URL of a node's address. */
export function upUrl(ip: string): string {
  return `http://${ip}:${UP_PORT}/up`;
}

/** Starts `lab-serve` on UP_PORT in the node's namespace; ended with the namespace or kill(). */
export function spawnUpServer(ns: Netns, logFile: string): NsProcess {
  const serve = selfCommand("lab-serve", ["--port", String(UP_PORT)]);
  return ns.spawn(serve.file, serve.args, { stdout: logFile });
}

export interface ProberOptions {
  readonly targets: readonly ProbeTarget[];
  /** probe records, one JSON line each (readProbeLog) */
  readonly out: string;
  readonly logFile?: string;
  /** per-probe timeout @default PROBE_TIMEOUT_MS */
  readonly timeoutMs?: number;
}

/** Starts `lab-probe` in the runner's namespace: every target every 100 ms, a fresh connection each. */
export function spawnProber(runner: Netns, options: ProberOptions): NsProcess {
  const probe = selfCommand("lab-probe", [
    "--out",
    options.out,
    ...(options.timeoutMs === undefined ? [] : ["--timeout", String(options.timeoutMs)]),
    ...options.targets.flatMap((t) => ["--target", `${t.name}=${t.url}`]),
  ]);
  return runner.spawn(
    probe.file,
    probe.args,
    options.logFile === undefined ? {} : { stdout: options.logFile },
  );
}
