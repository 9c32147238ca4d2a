import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { infraMac } from "../../harness/mac.js";
import { Netns } from "../../harness/netns.js";
import { plugIn } from "../../harness/node-link.js";
import { run, runChecked } from "../../util/exec.js";
import { markTime, probesIn, type Timeline } from "../timeline.js";
import type { Measured, RunHandle, Scenario, ScenarioContext, Verdict } from "./types.js";

/** The probe period the lab's holdfast runs with (`conflict.interval`), short for the lab. */
export const LAB_CONFLICT_INTERVAL_S = 5;
const INTERVAL_MS = LAB_CONFLICT_INTERVAL_S * 1000;
// A probe run that finds nobody takes PROBE_NUM (3) seconds; the report clears after it.
const CLEAR_WITHIN_MS = INTERVAL_MS + 4000;
/** How long the other host keeps the address: three probe periods. */
const CONFLICT_MS = 3 * INTERVAL_MS;
const OBSERVE_AFTER_MS = CLEAR_WITHIN_MS + 2000;
const POLL_MS = 100;
const READY_TIMEOUT_MS = 30_000;
const BASELINE_MS = 2_000;
// the other hosts' MACs: infrastructure range, after Kea's (1) and the runner's (2)
const INTRUDER_MAC_BASE = 0x20;

const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** The conflict an implementation reports, if it reports any: only holdfast has a status file. */
async function reportedConflict(r: RunHandle): Promise<string | null> {
  if (r.impl.name !== "holdfast") return null;
  try {
    const text = await readFile(join(r.runDir, "holdfast", "status.json"), "utf8");
    const doc = JSON.parse(text) as { attachments?: { conflict?: { mac?: string } | null }[] };
    return doc.attachments?.[0]?.conflict?.mac ?? null;
  } catch {
    return null; // mid-rename or not written yet: the next poll sees it
  }
}

/**
 * Another host on the fabric per run, which takes that run's address (`ip addr add`) and
 * announces it once, as a hand-configured neighbour or a host restored from an old cache
 * would; the runner's ARP cache follows the announcement.
 */
async function intrude(ctx: ScenarioContext, r: RunHandle, index: number): Promise<Netns> {
  const ns = await Netns.create(`${ctx.topo.prefix}-x${index}`);
  try {
    await plugIn(ctx.topo.fabric, ns, `v-x${index}`, "pn0", infraMac(INTRUDER_MAC_BASE + index));
    await runChecked(run, "ip", ["-n", ns.name, "addr", "add", r.node.cidr, "dev", "pn0"], {
      timeoutMs: 10_000,
    });
    r.mark("fault");
    // gratuitous ARP, best effort: without arping the other host is only found by probing
    await ns.exec("arping", ["-U", "-c", "1", "-w", "1", "-I", "pn0", "-s", r.node.ip, r.node.ip], {
      timeoutMs: 5000,
    });
  } catch (error) {
    await ns.destroy();
    throw error;
  }
  return ns;
}

/** Marks, per run, when its report of the conflict appeared and when it cleared. */
function watchReports(ctx: ScenarioContext): { stop(): Promise<void> } {
  let stopped = false;
  const seen = new Map<RunHandle, boolean>();
  const loop = (async () => {
    while (!stopped) {
      for (const r of ctx.runs) {
        const reported = (await reportedConflict(r)) !== null;
        if (reported !== (seen.get(r) ?? false)) r.mark(reported ? "conflict-reported" : "report-cleared");
        seen.set(r, reported);
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

function judgeConflict(t: Timeline, m: Measured): Verdict {
  const fault = markTime(t, "fault") ?? 0;
  const gone = markTime(t, "conflict-end") ?? Number.POSITIVE_INFINITY;
  const reported = t.marks.find((mark) => mark.label === "conflict-reported" && mark.t >= fault);
  const cleared = t.marks.find((mark) => mark.label === "report-cleared" && mark.t >= gone);
  const during = probesIn(t.probes, fault, gone);
  const failed = during.filter((p) => !p.ok).length;
  const failures: string[] = [];
  if (reported === undefined) failures.push("no conflict reported");
  else if (reported.t - fault > INTERVAL_MS)
    failures.push(`conflict reported after ${s(reported.t - fault)} (rule: ≤ ${s(INTERVAL_MS)})`);
  if (reported !== undefined && (cleared === undefined || cleared.t - gone > CLEAR_WITHIN_MS))
    failures.push(`report not cleared within ${s(CLEAR_WITHIN_MS)} of the other host leaving`);
  const info = [
    `runner probes while contested: ${failed} of ${during.length} failed`,
    m.addressLostMs > 0 ? `address absent for ${s(m.addressLostMs)} (given up)` : "address kept",
  ];
  return { pass: failures.length === 0, notes: [...failures, ...info] };
}

export const conflictScenario: Scenario = {
  name: "conflict",
  fault: `another host on the fabric takes the node's address (ip addr add + one gratuitous ARP) for ${s(CONFLICT_MS)}, then leaves`,
  passRule: `the conflict is reported within one probe interval (${s(INTERVAL_MS)}) and the report clears within ${s(CLEAR_WITHIN_MS)} of the other host leaving`,
  serverAtStart: true,
  restoreFrom: "loss",
  estimateMs: () => READY_TIMEOUT_MS + BASELINE_MS + CONFLICT_MS + OBSERVE_AFTER_MS,
  async run(ctx) {
    await ctx.waitAllPresent(READY_TIMEOUT_MS);
    await ctx.sleep(BASELINE_MS);
    const reports = watchReports(ctx);
    const intruders: Netns[] = [];
    try {
      const made = await Promise.allSettled(ctx.runs.map((r, i) => intrude(ctx, r, i)));
      for (const m of made) if (m.status === "fulfilled") intruders.push(m.value);
      const failed = made.find((m) => m.status === "rejected");
      if (failed !== undefined) throw failed.reason;
      await ctx.sleep(CONFLICT_MS);
      for (const ns of intruders.splice(0)) await ns.destroy();
      ctx.mark("conflict-end");
      await ctx.sleep(OBSERVE_AFTER_MS);
      ctx.mark("end");
    } finally {
      await reports.stop();
      for (const ns of intruders) await ns.destroy().catch(() => undefined);
    }
  },
  judge: judgeConflict,
};
