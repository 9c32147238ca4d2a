/**
 * bench/lab-compare: every implementation side by side in ONE lab topology (one node each,
 * same Kea, same moment), measured from the kernel's own address events:
 *   - restore latency after `ip addr del` of the held address, to the µs (`ip -ts monitor`
 *     under TZ=UTC, src/harness/address-watch.ts): p50 / p99 over every trial, a trial not
 *     restored within the per-trial budget counted as slower than it (censored, shown); new
 *     trials start until --trials or the per-implementation --budget is spent,
 *     with how many trials each figure rests on and what p50 / p99 of so few can claim,
 *   - time to address after a reboot while the DHCP server is silent,
 *   - RSS (sum over the implementation's processes) and CPU time while holding (idle window),
 * then the ratios against holdfast.
 *
 *   npm run build && npx tsx bench/lab-compare.ts [--impl NAME]... [--lease 10] [--budget 120]
 *     [--trial-budget 90] [--trials 50] [--idle 30]
 *
 * Runs only in namespaces it creates (prefix hflabb); needs root.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { getImpl, parseImplNames } from "../src/lab/impls/index.js";
import { NodeRun } from "../src/lab/node-run.js";
import { preflight } from "../src/lab/preflight.js";
import { LAB_KEA_OPTIONS } from "../src/harness/kea-options.js";
import { createTopology } from "../src/harness/topology.js";
import { run, runChecked } from "../src/util/exec.js";
import { describeTrials, formatMs, machineLoad, percentile, type Quantile, type Trials } from "./stats.js";

const { values } = parseArgs({
  options: {
    impl: {
      type: "string",
      multiple: true,
      default: ["dhclient", "seed-loop", "dhcpcd", "networkd", "holdfast"],
    },
    lease: { type: "string", default: "10" },
    budget: { type: "string", default: "120" },
    // above seed-loop's 60 s period, so a trial is censored only when it really did not come back
    "trial-budget": { type: "string", default: "90" },
    trials: { type: "string", default: "50" },
    idle: { type: "string", default: "30" },
  },
});
const impls = parseImplNames(values.impl);
const leaseSeconds = Number(values.lease);
const budgetMs = Number(values.budget) * 1000;
const trialBudgetMs = Number(values["trial-budget"]) * 1000;
const maxTrials = Number(values.trials);
const idleMs = Number(values.idle) * 1000;
preflight(impls.map(getImpl));

const CLK_TCK = 100; // USER_HZ on Linux: /proc/<pid>/stat times are in 1/100 s

/** RSS (KiB) and CPU ticks of every process in the node namespace except the lab's own instruments. */
async function usage(
  r: NodeRun,
  exclude: Set<number | undefined>,
): Promise<{ rssKiB: number; ticks: number }> {
  let rssKiB = 0;
  let ticks = 0;
  for (const pid of await r.node.ns.pids()) {
    if (exclude.has(pid)) continue;
    const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
    rssKiB += Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    ticks += Number(fields[11] ?? 0) + Number(fields[12] ?? 0); // utime, stime
  }
  return { rssKiB, ticks };
}

/** Deletes the address, waits for it to come back (or the trial's budget); the restore time or undefined. */
async function deleteTrial(r: NodeRun, timeoutMs: number): Promise<number | undefined> {
  const since = r.watch.samples.length;
  await runChecked(run, "ip", ["-n", r.node.ns.name, "addr", "del", r.node.cidr, "dev", "pn0"], {
    timeoutMs: 5000,
  });
  const back = await r.watch.waitAbsentThenPresent(since, timeoutMs);
  if (!back) return undefined;
  const recent = r.watch.samples.slice(since);
  const lost = recent.findIndex((s) => !s.present);
  const restored = recent.slice(lost).find((s) => s.present);
  return restored!.t - recent[lost]!.t;
}

const dir = await mkdtemp(join(tmpdir(), "hflabb-"));
const topo = await createTopology({
  prefix: `hflabb${process.pid % 10000}`,
  leaseSeconds,
  nodes: impls.map((name, i) => ({ name, ip: `198.18.0.${10 + i}` })),
  keaOptionData: LAB_KEA_OPTIONS,
  workDir: dir,
});
const rows: Record<string, Record<string, string | number | undefined>> = {};
const restore: Record<string, Trials> = {};
let loadAtTrials = "";
try {
  const runs = topo.nodes.map(
    (node, i) => new NodeRun(getImpl(impls[i]!), node, join(dir, node.ns.name), leaseSeconds),
  );
  for (const r of runs) await r.setUp();
  await Promise.all(runs.map((r) => r.boot("start")));
  await Promise.all(runs.map((r) => r.watch.waitPresent(30_000)));
  for (const r of runs) rows[r.impl.name] = { held: r.watch.isPresent ? "yes" : "no" };

  // 1. idle hold: RSS and CPU while nothing happens
  const exclude = (r: NodeRun) => new Set([r.watch.pid, r.upServerPid]);
  const before = await Promise.all(runs.map((r) => usage(r, exclude(r))));
  await sleep(idleMs);
  const after = await Promise.all(runs.map((r) => usage(r, exclude(r))));
  runs.forEach((r, i) => {
    rows[r.impl.name]!.rssMiB = +(after[i]!.rssKiB / 1024).toFixed(1);
    rows[r.impl.name]!.cpuMsPerMin = Math.round(
      (((after[i]!.ticks - before[i]!.ticks) * 1000) / CLK_TCK) * (60_000 / idleMs),
    );
  });

  // 2. restore latency after delete, all impls at once: trials start until maxTrials or the
  // budget is spent; each started trial has its own full trial budget, never cut by the phase's end
  loadAtTrials = machineLoad();
  await Promise.all(
    runs.map(async (r) => {
      const deadline = Date.now() + budgetMs;
      const times: number[] = [];
      let censored = 0;
      while (times.length + censored < maxTrials && Date.now() < deadline && r.watch.isPresent) {
        const t = await deleteTrial(r, trialBudgetMs);
        if (t === undefined) censored++;
        else times.push(t);
        await sleep(200);
      }
      restore[r.impl.name] = { values: times, censored, budgetMs: trialBudgetMs };
      // whatever did not come back within its trial budget gets its next chance in the reboot below
    }),
  );

  // 3. reboot while the server is silent: time from the implementation's start to the address
  topo.kea?.silence();
  await Promise.all(runs.map((r) => r.powerCut()));
  await sleep(1000);
  const bootAt = Date.now();
  await Promise.all(runs.map((r) => r.boot()));
  await Promise.all(runs.map((r) => r.watch.waitPresent(3 * leaseSeconds * 1000)));
  for (const r of runs) {
    const back = r.watch.samples.find((s) => s.t >= bootAt && s.present);
    rows[r.impl.name]!.rebootSilentMs = back ? back.t - bootAt : undefined;
  }
  await Promise.all(runs.map((r) => r.stop()));
} finally {
  await topo.destroy();
  await rm(dir, { recursive: true, force: true });
}

// Ratios to two significant figures: the trials behind them do not carry more.
const ratio = (v: number | undefined, base: number | undefined): string =>
  v !== undefined && base !== undefined && base > 0 ? `${Number((v / base).toPrecision(2))}×` : "-";
const valueOf = (q: Quantile): number | undefined => (q.kind === "value" ? q.ms : undefined);
const show = (q: Quantile): string =>
  q.kind === "value" ? formatMs(q.ms) : q.kind === "above-budget" ? `> ${formatMs(trialBudgetMs)}` : "-";
const hfTrials = restore.holdfast;
const hf = rows.holdfast;
console.log(
  `bench/lab-compare ${new Date().toISOString().slice(0, 10)}: lease ${leaseSeconds} s, up to ${maxTrials} delete trials started within ${budgetMs / 1000} s per impl, ${trialBudgetMs / 1000} s budget per trial, idle ${idleMs / 1000} s; times from ip -ts monitor (µs)`,
);
console.log(`machine: ${loadAtTrials} when the delete trials began, ${machineLoad()} at the end`);
console.log(
  ["impl", "delete→restore p50", "p99", "reboot-silent→address", "RSS", "CPU/min idle"].join(" | "),
);
for (const [name, r] of Object.entries(rows)) {
  const trials = restore[name] ?? { values: [], censored: 0 };
  const [p50, p99] = [percentile(trials, 50), percentile(trials, 99)];
  const base = hfTrials && name !== "holdfast" ? hfTrials : undefined;
  const num = (v: unknown): number | undefined => (typeof v === "number" ? v : undefined);
  r.p50ms = valueOf(p50) ?? p50.kind;
  r.p99ms = valueOf(p99) ?? p99.kind;
  r.trials = trials.values.length + trials.censored;
  r.notRestored = trials.censored;
  console.log(
    [
      name,
      `${show(p50)}${base ? ` (${ratio(valueOf(p50), valueOf(percentile(base, 50)))})` : ""}`,
      `${show(p99)}${base ? ` (${ratio(valueOf(p99), valueOf(percentile(base, 99)))})` : ""}`,
      `${r.rebootSilentMs === undefined ? "not restored" : formatMs(num(r.rebootSilentMs)!)} (${ratio(num(r.rebootSilentMs), num(hf?.rebootSilentMs))})`,
      `${r.rssMiB} MiB (${ratio(num(r.rssMiB), num(hf?.rssMiB))})`,
      `${r.cpuMsPerMin} ms (${ratio(num(r.cpuMsPerMin), num(hf?.cpuMsPerMin))})`,
    ].join(" | "),
  );
}
console.log("restore trials, per impl:");
for (const [name, trials] of Object.entries(restore)) console.log(`  ${name}: ${describeTrials(trials)}`);
console.log(JSON.stringify({ rows, restore }));
