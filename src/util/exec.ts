import { spawn, type SpawnOptions } from "node:child_process";
import { readFileSync } from "node:fs";
import { monotonicMs } from "./clock.js";

export interface RunOptions {
  /** deadline for the whole run; the process group is ended when it passes */
  readonly timeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly input?: string;
  /** how long SIGTERM gets before SIGKILL */
  readonly graceMs?: number;
  /**
   * A user some members of the group switch to (dhcpcd's privilege separation). A root
   * without CAP_KILL, as in the hardened unit, may not signal them, so every signal to the
   * group is also sent as that user (needs CAP_SETUID, which such units keep).
   */
  readonly groupUser?: string;
}

export interface RunResult {
  readonly command: string;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
  readonly durationMs: number;
}

/** Where spawning happens; tests plug a fake in. */
export type Runner = (file: string, args: readonly string[], options?: RunOptions) => Promise<RunResult>;

/** How long output may keep flowing after the leader exited before the pipes are closed. */
const PIPE_DRAIN_MS = 250;
/** How many times output still flowing after the leader exited extends that (20 × 250 ms). */
const PIPE_DRAINS = 20;

/**
 * Process groups of runs still under way (with their RunOptions.groupUser), so a stopping
 * agent can end them (no client outlives it).
 */
const liveGroups = new Map<number, string | undefined>();

/** Ends every run still under way (SIGKILL to each process group). */
export function endAllRuns(): void {
  for (const [pid, user] of liveGroups) void endGroup(pid, "SIGKILL", user);
}

/**
 * Signals a run's group as this process and, when some members run as `user`, as that user
 * too; resolves once both were sent.
 */
function endGroup(pid: number, signal: NodeJS.Signals, user: string | undefined): Promise<void> {
  try {
    process.kill(-pid, signal);
  } catch (error) {
    // ESRCH: nobody left. EPERM: only members this process may not signal.
    if ((error as NodeJS.ErrnoException).code === "ESRCH") return Promise.resolve();
  }
  const uid = user === undefined ? undefined : uidOf(user);
  if (uid === undefined) return Promise.resolve();
  // a child that switches to the user (libuv: setgroups, setuid) and signals as it
  const asUser = spawn("sh", ["-c", 'kill -s "$1" -- "-$2"', "sh", signal.slice(3), String(pid)], {
    stdio: "ignore",
    uid,
  });
  return new Promise((resolve) => {
    asUser.on("error", () => resolve());
    asUser.on("exit", () => resolve());
  });
}

/** Signals the process group `pid` leads; false when the group is gone (ESRCH). */
export function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  return signalPid(-pid, signal);
}

/** Signals one process; false when it is gone (ESRCH). A negative pid is a group (kill(2)). */
export function signalPid(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** A user's uid from /etc/passwd (system users such as dhcpcd's live there), or undefined. */
function uidOf(user: string): number | undefined {
  let passwd: string;
  try {
    passwd = readFileSync("/etc/passwd", "utf8");
  } catch {
    return undefined;
  }
  const entry = passwd.split("\n").find((line) => line.startsWith(`${user}:`));
  const uid = Number(entry?.split(":")[2]);
  return entry !== undefined && Number.isInteger(uid) && uid > 0 ? uid : undefined;
}

/**
 * Runs a command in its own process group with a deadline and always reaps the whole
 * group: DHCP clients fork helpers (dhcpcd's privilege separation) that would otherwise
 * outlive the exchange.
 */
export const run: Runner = (file, args, options = {}) =>
  new Promise((resolve, reject) => {
    const started = monotonicMs();
    const spawnOptions: SpawnOptions = {
      detached: true,
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      env: options.env ?? process.env,
      cwd: options.cwd,
    };
    const child = spawn(file, [...args], spawnOptions);
    if (child.pid !== undefined) liveGroups.set(child.pid, options.groupUser);
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    // chunks read so far: the drain below only closes pipes that went quiet
    let chunks = 0;
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      chunks++;
    });
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
      chunks++;
    });
    // EPIPE when the child exits without reading all of its input (ssh that cannot
    // connect): its exit status says what happened; unhandled, it would crash the process.
    child.stdin?.on("error", () => undefined);
    if (options.input !== undefined) child.stdin?.end(options.input);
    const deadline =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            if (child.pid !== undefined) void endGroup(child.pid, "SIGTERM", options.groupUser);
            killTimer = setTimeout(() => {
              if (child.pid !== undefined) void endGroup(child.pid, "SIGKILL", options.groupUser);
            }, options.graceMs ?? 1000);
          }, options.timeoutMs);
    let drainTimer: NodeJS.Timeout | undefined;
    child.on("error", (error) => {
      clearTimeout(deadline);
      clearTimeout(killTimer);
      reject(error);
    });
    // `close` waits for every holder of the output pipes; a descendant that left the group
    // (setsid) could hold them forever. Once the leader is gone, give the pipes a moment to
    // drain, then close them ourselves so the deadline really bounds the run.
    // A loop blocked past the timer (50 ssh at once on a loaded machine) runs the timer
    // before it reads output already waiting in the pipe: that cut a finished probe's output
    // short. So the pipes close only once a poll phase (setImmediate runs after it) read
    // nothing new, and output still flowing gets more time, a bounded number of times.
    let drains = 0;
    const drain = (): void => {
      drainTimer = setTimeout(() => {
        const seen = chunks;
        setImmediate(() => {
          if (chunks !== seen && ++drains < PIPE_DRAINS) return drain();
          child.stdout?.destroy();
          child.stderr?.destroy();
        });
      }, PIPE_DRAIN_MS);
    };
    child.on("exit", drain);
    child.on("close", (code, signal) => {
      clearTimeout(deadline);
      clearTimeout(killTimer);
      clearTimeout(drainTimer);
      // Whatever the leader left behind in its group goes with it, before the run is over.
      const leftovers =
        child.pid === undefined ? Promise.resolve() : endGroup(child.pid, "SIGKILL", options.groupUser);
      if (child.pid !== undefined) liveGroups.delete(child.pid);
      void leftovers.then(() =>
        resolve({
          command: [file, ...args].join(" "),
          code,
          signal,
          stdout,
          stderr,
          timedOut,
          durationMs: monotonicMs() - started,
        }),
      );
    });
  });

/** Runs a command that must succeed; throws with its stderr otherwise. */
export async function runChecked(
  runner: Runner,
  file: string,
  args: readonly string[],
  options?: RunOptions,
): Promise<string> {
  const result = await runner(file, args, options);
  if (result.code !== 0) {
    const why = result.timedOut
      ? "timed out"
      : result.stderr.trim() || `exit ${result.code ?? result.signal}`;
    throw new Error(`${result.command}: ${why}`);
  }
  return result.stdout;
}
