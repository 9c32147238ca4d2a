/**
 * The bundled agent started in a private mount namespace (`unshare -m`), after a shell
 * prelude that breaks its directories there: a full tmpfs, a read-only bind mount. Nothing
 * is ever mounted in the host's mount namespace; the mounts vanish with the agent.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AGENT_NODE_OPTIONS } from "../../src/agent/node-options.js";
import type { Netns } from "../../src/harness/netns.js";
import { BUNDLE, NODE20, requireBundle, waitFor, type AgentRun } from "./agent-process.js";
import { scratchDir } from "./scratch.js";

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** `mount` a tmpfs of `kb` KB at dir, make `files` (empty), then fill what is left but `leaveBytes`. */
export function fullTmpfs(dir: string, kb = 8, files: readonly string[] = [], leaveBytes = 0): string {
  const make = files.map((f) => `: > ${q(join(dir, f))}`).join(" && ");
  const fillKb = Math.max(0, kb - Math.ceil(leaveBytes / 1024));
  return [
    `mkdir -p ${q(dir)}`,
    `mount -t tmpfs -o size=${kb}k holdfast-test ${q(dir)}`,
    ...(make ? [make] : []),
    // dd stops at ENOSPC; that is the point
    `(dd if=/dev/zero of=${q(join(dir, ".fill"))} bs=1024 count=${leaveBytes === 0 ? kb * 4 : fillKb} 2>/dev/null; true)`,
  ].join(" && ");
}

/** Make dir read-only for the agent: a read-only bind mount of itself. */
export function readOnly(dir: string): string {
  return `mkdir -p ${q(dir)} && mount --bind ${q(dir)} ${q(dir)} && mount -o remount,ro,bind ${q(dir)}`;
}

/**
 * Runs the agent as `runAgent` does, but inside `unshare -m` after `prelude`. The pid is the
 * agent's own (unshare and sh exec), so `/proc/<pid>/root` shows its private mounts.
 */
export function runAgentPrivate(
  ns: Netns,
  config: Record<string, unknown>,
  prelude: string,
  options: {
    readonly dir?: string;
    readonly stateDir?: string;
    readonly runDir?: string;
    /** extra node options, before the bundle */
    readonly nodeArgs?: readonly string[];
  } = {},
): AgentRun {
  requireBundle();
  const dir = options.dir ?? scratchDir("hf-own-");
  const stateDir = options.stateDir ?? join(dir, "state");
  const runDir = options.runDir ?? join(dir, "run");
  const configPath = join(dir, "holdfast.json");
  writeFileSync(configPath, JSON.stringify({ version: 1, stateDir, runDir, ...config }, null, 2));
  const logPath = join(dir, `agent-${Date.now()}.log`);
  const command = [
    NODE20,
    ...AGENT_NODE_OPTIONS,
    ...(options.nodeArgs ?? []),
    BUNDLE,
    "agent",
    "--config",
    configPath,
  ]
    .map(q)
    .join(" ");
  const script = prelude === "" ? `exec ${command}` : `${prelude} && exec ${command}`;
  const proc = ns.spawn("unshare", ["-m", "--propagation", "private", "sh", "-c", script], {
    stdout: logPath,
  });
  const logs = () =>
    (existsSync(logPath) ? readFileSync(logPath, "utf8") : "")
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { interface: string; msg: string });
  return {
    dir,
    configPath,
    stateDir,
    runDir,
    proc,
    logPath,
    logs,
    messages: () => logs().map((l) => l.msg),
    waitLog: (pattern, timeoutMs = 10_000) =>
      waitFor(
        `log line ${pattern} (log: ${logPath})`,
        () => logs().find((l) => pattern.test(l.msg))?.msg ?? "",
        timeoutMs,
        20,
      ),
    async stop(signal = "SIGTERM") {
      proc.kill(signal);
      return proc.exited;
    },
  };
}

/** A path as the agent sees it, through its private mounts. */
export const inAgent = (run: AgentRun, path: string): string => `/proc/${run.proc.pid}/root${path}`;
