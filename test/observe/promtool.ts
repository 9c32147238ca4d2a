import { run, type RunResult } from "../../src/util/exec.js";

/** Runs the real promtool (Debian package `prometheus`), with a deadline. */
export function promtool(
  args: readonly string[],
  options: { input?: string; cwd?: string } = {},
): Promise<RunResult> {
  return run("promtool", args, { timeoutMs: 60_000, ...options });
}
