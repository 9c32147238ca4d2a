import { errorMessage } from "../errors.js";
import type { AgentBundle } from "../render/bundle.js";
import { bundleFor } from "../render/index.js";
import type { Runner } from "../util/exec.js";
import { applyHost } from "./apply.js";
import { desiredState, type Desired } from "./desired.js";
import { loadInventory, type Inventory, type InventoryHost } from "./inventory.js";
import { planHost, type Plan } from "./plan.js";
import { probeHost } from "./probe.js";
import {
  causeOf,
  lineProgress,
  renderPlans,
  renderTable,
  silentProgress,
  summarize,
  summaryLine,
  ttyProgress,
  type ConvergeReport,
  type HostResult,
  type ProgressSink,
  type Stage,
} from "./report.js";
import type { SshOptions, SshTarget } from "./ssh.js";
import { heldOf, verifyHost } from "./verify.js";
import { mapPool } from "../util/pool.js";
import { monotonicMs } from "../util/clock.js";

/**
 * `holdfast converge` (design §4.7): for every host of the inventory, at most
 * `concurrency` at a time, probe → plan → apply → verify. One host's failure never stops
 * the others; it is reported, and the exit code says that something failed.
 */

export interface ConvergeOptions {
  /** the inventory as loaded; or `inventoryFile` */
  readonly inventory?: Inventory;
  readonly inventoryFile?: string;
  readonly dryRun?: boolean;
  /** hosts worked on at once @default 10 */
  readonly concurrency?: number;
  readonly ssh?: SshOptions;
  /** the agent bundle to install @default this holdfast's own (dist/holdfast.mjs) */
  readonly bundle?: Buffer;
  /** @default 60000 */
  readonly probeTimeoutMs?: number;
  /** @default 10 minutes */
  readonly applyTimeoutMs?: number;
  readonly progress?: ProgressSink;
}

export const DEFAULT_CONCURRENCY = 10;
const PROBE_TIMEOUT_MS = 60_000;

function targetOf(host: InventoryHost): SshTarget {
  return { name: host.name, address: host.address, user: host.user, port: host.port };
}

/** A stage's failure; `cause` is what the stage threw, which the report digs the ssh error out of. */
class StageError extends Error {
  constructor(
    readonly stage: Stage,
    message: string,
    readonly plan?: Plan,
    cause?: unknown,
  ) {
    super(message, { cause });
  }
}

async function stage<T>(name: Stage, work: () => Promise<T>, plan?: Plan): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw new StageError(name, errorMessage(error), plan, error);
  }
}

async function convergeHost(
  host: InventoryHost,
  desired: Desired,
  options: ConvergeOptions,
  progress: ProgressSink,
): Promise<HostResult> {
  const started = monotonicMs();
  const target = targetOf(host);
  const ssh = options.ssh ?? {};
  const probeTimeoutMs = options.probeTimeoutMs ?? PROBE_TIMEOUT_MS;
  const base = { name: host.name, address: host.address };
  const done = (rest: Omit<HostResult, "name" | "address" | "durationMs">): HostResult => ({
    ...base,
    ...rest,
    durationMs: Math.round(monotonicMs() - started),
  });
  try {
    progress.update(host.name, { stage: "probe" });
    const probe = await stage("probe", () =>
      probeHost(target, desired.interfaces, { ...ssh, timeoutMs: probeTimeoutMs }, desired),
    );
    progress.update(host.name, { stage: "plan" });
    const plan = planHost(probe, desired);
    if (plan.blockers.length > 0) throw new StageError("plan", plan.blockers.join("; "), plan);
    const held = heldOf(probe.status);
    if (options.dryRun)
      return done({ outcome: "planned", plan, failedAt: undefined, error: undefined, held, changes: [] });
    if (plan.kind === "unchanged")
      return done({ outcome: "unchanged", plan, failedAt: undefined, error: undefined, held, changes: [] });
    progress.update(host.name, { stage: "apply", plan: plan.kind });
    const applied = await stage(
      "apply",
      () =>
        applyHost(target, desired, {
          ...ssh,
          ...(options.applyTimeoutMs ? { timeoutMs: options.applyTimeoutMs } : {}),
        }),
      plan,
    );
    progress.update(host.name, { stage: "verify", plan: plan.kind });
    const verified = await stage(
      "verify",
      () => verifyHost(target, desired, { ...ssh, timeoutMs: probeTimeoutMs }),
      plan,
    );
    return done({
      outcome: "converged",
      plan,
      failedAt: undefined,
      error: undefined,
      held: verified.held,
      changes: applied.changes,
    });
  } catch (error) {
    const failed =
      error instanceof StageError ? error : new StageError("probe", errorMessage(error), undefined, error);
    const cause = causeOf(failed.cause);
    return done({
      outcome: "failed",
      plan: failed.plan,
      failedAt: failed.stage,
      error: failed.message,
      ...(cause ? { cause } : {}),
      held: [],
      changes: [],
    });
  }
}

/** Renders every host's desired state up front: a bad spec fails the run before any ssh. */
function desiredStates(inventory: Inventory, bundle: Buffer | undefined): Map<string, Desired> {
  const states = new Map<string, Desired>();
  // one bundle (and one sha256 of its megabytes) for every embedded host
  let embedded: AgentBundle | undefined;
  for (const host of inventory.hosts) {
    const agentBundle =
      host.spec.agent.install === "npm"
        ? undefined
        : (embedded ??= bundleFor(host.spec, bundle ? { bundle } : {}));
    states.set(host.name, desiredState(host.spec, agentBundle));
  }
  return states;
}

export async function converge(options: ConvergeOptions): Promise<ConvergeReport> {
  const started = monotonicMs();
  const inventory = options.inventory ?? loadInventory(options.inventoryFile ?? "");
  const desired = desiredStates(inventory, options.bundle);
  const progress = options.progress ?? silentProgress;
  try {
    const hosts = await mapPool(inventory.hosts, options.concurrency ?? DEFAULT_CONCURRENCY, (host) =>
      convergeHost(host, desired.get(host.name)!, options, progress).then((result) => {
        progress.update(host.name, { stage: "done", result });
        return result;
      }),
    );
    return {
      version: 1,
      dryRun: options.dryRun ?? false,
      hosts,
      summary: summarize(hosts),
      durationMs: Math.round(monotonicMs() - started),
    };
  } finally {
    progress.close();
  }
}

/** 0 when every host converged (or is unchanged / planned), 1 when any failed. */
export function exitCodeOf(report: ConvergeReport): number {
  return report.summary.failed > 0 ? 1 : 0;
}

export interface CliRunOptions {
  readonly inventoryFile: string;
  readonly dryRun: boolean;
  readonly concurrency: number;
  readonly json: boolean;
  readonly acceptNewHostKeys: boolean;
  readonly sshConfig: string | undefined;
  readonly connectTimeoutSec: number | undefined;
  readonly runner?: Runner;
  /** @default this holdfast's own bundle */
  readonly bundle?: Buffer;
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown; isTTY?: boolean; columns?: number };
}

/** The CLI's run: progress on stderr, table / plans / JSON on stdout; returns the exit code. */
export async function runConvergeCli(options: CliRunOptions): Promise<number> {
  const inventory = loadInventory(options.inventoryFile);
  const names = inventory.hosts.map((h) => h.name);
  const write = (text: string) => options.stderr.write(text);
  const progress = options.json
    ? silentProgress
    : options.stderr.isTTY
      ? ttyProgress(names, write, options.stderr.columns)
      : lineProgress(names, write);
  const report = await converge({
    inventory,
    dryRun: options.dryRun,
    concurrency: options.concurrency,
    progress,
    ...(options.bundle ? { bundle: options.bundle } : {}),
    ssh: {
      acceptNewHostKeys: options.acceptNewHostKeys,
      ...(options.sshConfig !== undefined ? { configFile: options.sshConfig } : {}),
      ...(options.connectTimeoutSec !== undefined ? { connectTimeoutSec: options.connectTimeoutSec } : {}),
      ...(options.runner ? { runner: options.runner } : {}),
    },
  });
  if (options.json) options.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else {
    // a dry run's plans already say everything the table would, at length
    options.stdout.write(
      options.dryRun ? `${renderPlans(report)}\n${summaryLine(report)}\n` : renderTable(report),
    );
  }
  return exitCodeOf(report);
}
