import { setMaxListeners } from "node:events";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { errorMessage } from "../errors.js";
import { collectEnvironment, type Environment } from "./environment.js";
import { getImpl } from "./impls/index.js";
import { spawnProber, upUrl } from "../harness/instruments.js";
import type { ImplName } from "./impls/types.js";
import { measure } from "./metrics.js";
import { NodeRun } from "./node-run.js";
import { registerRun } from "../harness/run-registry.js";
import { readProbeLog } from "../harness/probe.js";
import { getScenario } from "./scenarios/index.js";
import type { Scenario, ScenarioContext, ScenarioName } from "./scenarios/types.js";
import { LAB_KEA_OPTIONS } from "../harness/kea-options.js";
import type { Timeline } from "./timeline.js";
import { createTopology, type Topology } from "../harness/topology.js";
import { mapPool } from "../util/pool.js";

/** Every namespace the lab makes starts with this; `holdfast lab --clean` removes exactly those. */
export const LAB_NS_PREFIX = "hflab";

export interface LabOptions {
  readonly scenarios: readonly ScenarioName[];
  readonly impls: readonly ImplName[];
  /** @default 10 */
  readonly leaseSeconds?: number;
  /** how many scenarios run at once, each in its own topology @default all */
  readonly parallel?: number;
  /** @default a fresh directory under the system temp dir, removed afterwards */
  readonly workDir?: string;
  readonly keepWorkDir?: boolean;
  readonly signal?: AbortSignal;
  /** progress lines (stderr in the CLI) */
  readonly log?: (line: string) => void;
  /** namespace name prefix @default LAB_NS_PREFIX */
  readonly prefix?: string;
}

/** One row of design §5's result list. */
export interface LabResult {
  readonly scenario: ScenarioName;
  readonly impl: ImplName;
  readonly pass: boolean;
  readonly addressLostMs: number;
  readonly probeFailures: number;
  readonly probeTotal: number;
  readonly timeToRestoreMs: number | null;
  readonly notes: readonly string[];
}

export interface LabRun {
  readonly result: LabResult;
  readonly timeline: Timeline;
}

export interface LabReport {
  readonly results: readonly LabResult[];
  readonly environment: Environment;
  /** results with their timelines, for the HTML report */
  readonly runs: readonly LabRun[];
}

/** Runs each chosen scenario in its own topology (one node per implementation), in parallel. */
export async function runLab(options: LabOptions): Promise<LabReport> {
  const started = Date.now();
  // every sleep and wait of every run listens on the one signal
  if (options.signal) setMaxListeners(0, options.signal);
  const leaseSeconds = options.leaseSeconds ?? 10;
  const log = options.log ?? (() => undefined);
  const workDir = options.workDir ?? (await mkdtemp(join(tmpdir(), `${LAB_NS_PREFIX}-`)));
  const id = Math.floor(Math.random() * 36 ** 3)
    .toString(36)
    .padStart(3, "0");
  const runPrefix = `${options.prefix ?? LAB_NS_PREFIX}${id}`;
  const unregister = registerRun(runPrefix);
  const scenarios = options.scenarios.map(getScenario);
  let runs: LabRun[][] = [];
  try {
    // on a failure (Ctrl-C) the other scenarios are still tearing down; the owner file, the
    // work dir and the caller's signal handlers must outlive them, which mapPool waits for
    runs = await mapPool(scenarios, options.parallel ?? scenarios.length, (scenario, index) =>
      runScenario(scenario, options.impls, {
        prefix: `${runPrefix}${index.toString(36)}`,
        dir: join(workDir, scenario.name),
        leaseSeconds,
        log,
        signal: options.signal,
      }),
    );
  } finally {
    unregister();
    if (!options.keepWorkDir && options.workDir === undefined)
      await rm(workDir, { recursive: true, force: true });
  }
  const flat = runs.flat();
  const environment = await collectEnvironment(leaseSeconds, started);
  return { results: flat.map((r) => r.result), environment, runs: flat };
}

interface ScenarioRunOptions {
  readonly prefix: string;
  readonly dir: string;
  readonly leaseSeconds: number;
  readonly log: (line: string) => void;
  readonly signal: AbortSignal | undefined;
}

async function runScenario(
  scenario: Scenario,
  implNames: readonly ImplName[],
  o: ScenarioRunOptions,
): Promise<LabRun[]> {
  o.signal?.throwIfAborted();
  await mkdir(o.dir, { recursive: true });
  o.log(`${scenario.name}: building the topology (${implNames.join(", ")})`);
  const nodes = implNames.map((name, i) => ({ name, ip: `198.18.0.${10 + i}` }));
  const poolPerNode = scenario.kea === "pool-per-node";
  // a second client per implementation, in that implementation's one-address pool
  const intruders = poolPerNode
    ? implNames.map((_, i) => ({ name: `x${i}`, ip: `198.18.0.${110 + i}` }))
    : [];
  let topo: Topology | undefined;
  const nodeRuns: NodeRun[] = [];
  const probeLog = join(o.dir, "probes.jsonl");
  let error: unknown;
  try {
    topo = await createTopology({
      prefix: o.prefix,
      leaseSeconds: o.leaseSeconds,
      nodes: [...nodes, ...intruders],
      ...(poolPerNode
        ? {
            reserveNodes: false,
            classPools: nodes.map((n, i) => ({
              name: n.name,
              nodes: [n.name, intruders[i]!.name],
              ip: n.ip,
            })),
          }
        : {}),
      startKea: scenario.serverAtStart,
      keaOptionData: LAB_KEA_OPTIONS,
      workDir: o.dir,
    });
    for (const [i, node] of topo.nodes.slice(0, nodes.length).entries()) {
      const run = new NodeRun(getImpl(implNames[i]!), node, join(o.dir, node.ns.name), o.leaseSeconds);
      nodeRuns.push(run);
      await run.setUp();
    }
    const prober = spawnProber(topo.runner, {
      targets: nodeRuns.map((r) => ({ name: r.impl.name, url: upUrl(r.node.ip) })),
      out: probeLog,
      logFile: join(o.dir, "probe.log"),
    });
    try {
      // allSettled: a failed prepare must not leave other boots to start supervisors after stop()
      const boots = await Promise.allSettled(nodeRuns.map((r) => r.boot("start")));
      const failed = boots.find((b) => b.status === "rejected");
      if (failed !== undefined) throw failed.reason;
      o.log(`${scenario.name}: implementations started`);
      await scenario.run(contextFor(topo, nodeRuns, topo.nodes.slice(nodes.length), o));
    } finally {
      await Promise.all(nodeRuns.map((r) => r.stop()));
      prober.kill("SIGTERM");
      await Promise.race([prober.exited, sleep(3000)]);
    }
  } catch (caught) {
    error = caught;
  } finally {
    await topo?.destroy().catch((e: unknown) => o.log(`${scenario.name}: teardown: ${errorMessage(e)}`));
  }
  // node:timers sleeps reject with a generic AbortError; the caller's reason says why
  if (o.signal?.aborted) throw o.signal.reason;
  const probes = readProbeLog(probeLog);
  const out = implNames.map((impl, i) => {
    const run = nodeRuns[i];
    const timeline = run ? run.timeline(probes.get(impl) ?? []) : { address: [], probes: [], marks: [] };
    return { result: judge(scenario, impl, timeline, run, error), timeline };
  });
  o.log(
    `${scenario.name}: done (${out.map((r) => `${r.result.impl} ${r.result.pass ? "pass" : "FAIL"}`).join(", ")})`,
  );
  return out;
}

function contextFor(
  topo: Topology,
  runs: readonly NodeRun[],
  intruders: ScenarioContext["intruders"],
  o: ScenarioRunOptions,
): ScenarioContext {
  return {
    topo,
    runs,
    intruders,
    leaseMs: o.leaseSeconds * 1000,
    mark: (label) => runs.forEach((r) => r.mark(label)),
    startServer: async () => {
      await topo.startKea();
    },
    sleep: (ms) => sleep(ms, undefined, o.signal ? { signal: o.signal } : {}),
    waitAllPresent: async (timeoutMs) => {
      await Promise.all(runs.map((r) => r.watch.waitPresent(timeoutMs, o.signal)));
      o.signal?.throwIfAborted();
    },
  };
}

function judge(
  scenario: Scenario,
  impl: ImplName,
  timeline: Timeline,
  run: NodeRun | undefined,
  error: unknown,
): LabResult {
  const measured = measure(timeline, scenario.restoreFrom);
  const notes: string[] = [];
  if (error !== undefined) notes.push(`lab error: ${errorMessage(error)}`);
  const fault = timeline.marks.find((m) => m.label === "fault");
  if (fault && scenario.serverAtStart && !timeline.address.some((a) => a.present && a.t <= fault.t)) {
    notes.push("never held an address before the fault");
  }
  const verdict = scenario.judge(timeline, measured, run?.findings ?? new Map());
  notes.push(...verdict.notes);
  if (run && run.supervisor.restarts > 0) notes.push(`supervisor restarted it ${run.supervisor.restarts}×`);
  if (run?.supervisor.error !== undefined)
    notes.push(`supervisor gave up: ${errorMessage(run.supervisor.error)}`);
  const { restoredAt: _restoredAt, ...metrics } = measured;
  return { scenario: scenario.name, impl, pass: error === undefined && verdict.pass, ...metrics, notes };
}
