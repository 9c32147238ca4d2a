import { invalidInput } from "../../errors.js";
import { SEED_LOOP_PERIOD_S } from "../impls/seed-loop.js";
import { absentIntervals, markTime, presentAt, type Timeline } from "../timeline.js";
import { conflictScenario } from "./conflict.js";
import { flushAddress, setCarrier } from "./faults.js";
import { moveReservations, probeNewAddress, secondClient } from "./server-speaks.js";
import {
  SCENARIO_NAMES,
  type Measured,
  type Metrics,
  type Scenario,
  type ScenarioContext,
  type ScenarioName,
  type Verdict,
} from "./types.js";

/** How long implementations get to obtain their first address before the fault regardless. */
export const READY_TIMEOUT_MS = 30_000;
/** Healthy time recorded before every fault, so the timeline shows the baseline. */
export const BASELINE_MS = 2_000;
/**
 * A restore counts as prompt within this: before a runner's connection attempt retransmits
 * its first SYN (RFC 6298 §2.1 initial RTO of 1 s), so no request notices the fault.
 */
export const PROMPT_RESTORE_MS = 1_000;
/** Observation after faults that a periodic re-assert would fix: one seed-loop period plus margin. */
const PERIODIC_WINDOW_MS = (SEED_LOOP_PERIOD_S + 10) * 1000;
const REBOOT_DOWN_MS = 1_000;
const REBOOT_RESTORE_MS = 2_000;
const IPAM_RESTORE_MS = 15_000;
const FLAP_DOWN_MS = 3_000;
const FLAP_RECOVER_MS = 2_000;
/** One DHCP exchange's deadline in the lab's configs (holdfast's attemptTimeout there). */
const EXCHANGE_MS = 5_000;
/** ipam-change: observed for this many lease times after the reservation moved */
const IPAM_CHANGE_LEASES = 2;

async function settle(ctx: ScenarioContext): Promise<void> {
  await ctx.waitAllPresent(READY_TIMEOUT_MS);
  await ctx.sleep(BASELINE_MS);
}

function end(timeline: Timeline): number {
  return markTime(timeline, "end") ?? Number.POSITIVE_INFINITY;
}

function verdict(checks: readonly [ok: boolean, failure: string][]): Verdict {
  const notes = checks.filter(([ok]) => !ok).map(([, why]) => why);
  return { pass: notes.length === 0, notes };
}

const s = (ms: number): string => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;

/** Restored promptly, and nothing lost after that until the end. */
function restoredAndHeld(timeline: Timeline, m: Measured, withinMs: number): Verdict {
  const relapses =
    m.restoredAt === null ? [] : absentIntervals(timeline.address, m.restoredAt + 1, end(timeline));
  return verdict([
    [m.timeToRestoreMs !== null, "address not back by the end of the run"],
    [
      m.timeToRestoreMs === null || m.timeToRestoreMs <= withinMs,
      `restored after ${s(m.timeToRestoreMs ?? 0)} (rule: ≤ ${s(withinMs)})`,
    ],
    [relapses.length === 0, `address lost again ${relapses.length}× after the restore`],
  ]);
}

function neverLost(m: Metrics): Verdict {
  return verdict([
    [m.addressLostMs === 0, `address absent for ${s(m.addressLostMs)}`],
    [m.probeFailures === 0, `${m.probeFailures} of ${m.probeTotal} probes failed`],
  ]);
}

const SCENARIOS: readonly Scenario[] = [
  {
    name: "silent-server",
    fault: "the DHCP server stops answering (SIGSTOP) for 3 lease times",
    passRule: "no address loss and no failed probe through 3 lease times of silence",
    serverAtStart: true,
    restoreFrom: "loss",
    estimateMs: (lease) => READY_TIMEOUT_MS + BASELINE_MS + 3 * lease,
    async run(ctx) {
      await settle(ctx);
      ctx.topo.kea?.silence();
      ctx.mark("fault");
      await ctx.sleep(3 * ctx.leaseMs);
      ctx.mark("end");
    },
    judge: (_t, m) => neverLost(m),
  },
  {
    name: "address-flush",
    fault: "`ip addr flush dev pn0` on the node",
    passRule: `address back within ${s(PROMPT_RESTORE_MS)} of the flush and held to the end (${s(PERIODIC_WINDOW_MS)} observed)`,
    serverAtStart: true,
    restoreFrom: "loss",
    estimateMs: () => READY_TIMEOUT_MS + BASELINE_MS + PERIODIC_WINDOW_MS,
    async run(ctx) {
      await settle(ctx);
      ctx.mark("fault");
      // each run's own fault-end: what its flush deleted, in however many rounds, is the fault
      await Promise.all(
        ctx.runs.map(async (r) => {
          await flushAddress(r.node);
          r.mark("fault-end");
        }),
      );
      await ctx.sleep(PERIODIC_WINDOW_MS);
      ctx.mark("end");
    },
    judge: (t, m) => restoredAndHeld(t, m, PROMPT_RESTORE_MS),
  },
  {
    name: "link-recreate",
    fault: "pn0 is deleted and created again (same MAC), as a VLAN re-created on boot or by an operator",
    passRule: `address back within ${s(PROMPT_RESTORE_MS)} of the link's deletion and held to the end (${s(PERIODIC_WINDOW_MS)} observed)`,
    serverAtStart: true,
    restoreFrom: "loss",
    estimateMs: () => READY_TIMEOUT_MS + BASELINE_MS + PERIODIC_WINDOW_MS,
    async run(ctx) {
      await settle(ctx);
      ctx.mark("fault");
      await Promise.all(
        ctx.runs.map(async (r) => {
          await r.node.recreateLink();
          r.mark("fault-end");
        }),
      );
      ctx.mark("link-back");
      await ctx.sleep(PERIODIC_WINDOW_MS);
      ctx.mark("end");
    },
    judge: (t, m) => restoredAndHeld(t, m, PROMPT_RESTORE_MS),
  },
  {
    name: "reboot-silent",
    fault:
      "the server goes silent, then the node reboots (implementation killed, pn0 re-created, state dir kept)",
    passRule: `address back within ${s(REBOOT_RESTORE_MS)} of the implementation's start while the server stays silent, held for 3 lease times`,
    serverAtStart: true,
    restoreFrom: "boot",
    estimateMs: (lease) => READY_TIMEOUT_MS + BASELINE_MS + REBOOT_DOWN_MS + 3 * lease,
    async run(ctx) {
      await settle(ctx);
      ctx.topo.kea?.silence();
      ctx.mark("fault");
      await Promise.all(ctx.runs.map((r) => r.powerCut()));
      await ctx.sleep(REBOOT_DOWN_MS);
      await Promise.all(ctx.runs.map((r) => r.boot()));
      await ctx.sleep(3 * ctx.leaseMs);
      ctx.mark("end");
    },
    judge: (t, m) => restoredAndHeld(t, m, REBOOT_RESTORE_MS),
  },
  {
    name: "ipam-lag",
    fault:
      "the DHCP server starts 2 lease times after the implementation (IPAM has not assigned the address yet)",
    passRule: `address within ${s(IPAM_RESTORE_MS)} of the server's start, held for 3 lease times`,
    serverAtStart: false,
    restoreFrom: "server-start",
    estimateMs: (lease) => 5 * lease + IPAM_RESTORE_MS,
    async run(ctx) {
      ctx.mark("fault");
      await ctx.sleep(2 * ctx.leaseMs);
      await ctx.startServer();
      ctx.mark("server-start");
      await ctx.sleep(3 * ctx.leaseMs);
      ctx.mark("end");
    },
    judge: (t, m) => restoredAndHeld(t, m, IPAM_RESTORE_MS),
  },
  {
    name: "agent-kill",
    fault: "the implementation is SIGKILLed (its supervisor restarts it, as Restart=always would)",
    passRule: "no address loss and no failed probe through 2 lease times after the kill",
    serverAtStart: true,
    restoreFrom: "loss",
    estimateMs: (lease) => READY_TIMEOUT_MS + BASELINE_MS + 2 * lease,
    async run(ctx) {
      await settle(ctx);
      ctx.mark("fault");
      for (const r of ctx.runs) r.supervisor.signal("SIGKILL");
      await ctx.sleep(2 * ctx.leaseMs);
      ctx.mark("end");
    },
    judge: (_t, m) => neverLost(m),
  },
  {
    name: "parent-flap",
    fault: `pn0 loses carrier for ${s(FLAP_DOWN_MS)} (the parent NIC's link flaps)`,
    passRule: `address never lost; probes succeed again within ${s(FLAP_RECOVER_MS)} of carrier return, through 2 lease times`,
    serverAtStart: true,
    restoreFrom: "loss",
    estimateMs: (lease) => READY_TIMEOUT_MS + BASELINE_MS + FLAP_DOWN_MS + 2 * lease,
    async run(ctx) {
      await settle(ctx);
      ctx.mark("fault");
      await Promise.all(ctx.runs.map((r) => setCarrier(ctx.topo, r.node, false)));
      await ctx.sleep(FLAP_DOWN_MS);
      await Promise.all(ctx.runs.map((r) => setCarrier(ctx.topo, r.node, true)));
      ctx.mark("carrier-back");
      await ctx.sleep(2 * ctx.leaseMs);
      ctx.mark("end");
    },
    judge(t, m) {
      const from = (markTime(t, "carrier-back") ?? 0) + FLAP_RECOVER_MS;
      const late = t.probes.filter((p) => p.t >= from && p.t <= end(t) && !p.ok).length;
      return verdict([
        [m.addressLostMs === 0, `address absent for ${s(m.addressLostMs)}`],
        [late === 0, `${late} probes failed later than ${s(FLAP_RECOVER_MS)} after carrier return`],
        [presentAt(t.address, end(t)), "address absent at the end"],
      ]);
    },
  },
  {
    name: "ipam-change",
    fault:
      "IPAM moves the node's reservation to another address (Kea reloaded with SIGHUP) while the server answers",
    passRule:
      "the new address held within one confirm interval (lease T1 = half the lease) plus one exchange " +
      `(${s(EXCHANGE_MS)}), the old one gone, probes to the new address succeed`,
    serverAtStart: true,
    restoreFrom: "loss",
    estimateMs: (lease) => READY_TIMEOUT_MS + BASELINE_MS + IPAM_CHANGE_LEASES * lease,
    async run(ctx) {
      await settle(ctx);
      ctx.mark("fault");
      for (const r of ctx.runs) r.findings.set("rule-ms", String(ctx.leaseMs / 2 + EXCHANGE_MS));
      await moveReservations(ctx);
      await ctx.sleep(IPAM_CHANGE_LEASES * ctx.leaseMs);
      await Promise.all(ctx.runs.map((r) => probeNewAddress(ctx, r)));
      ctx.mark("end");
    },
    judge(_t, _m, findings) {
      const moved = findings.get("moved-ms");
      const withinMs = Number(findings.get("rule-ms") ?? NaN);
      const judged = verdict([
        [
          moved !== undefined,
          `never held the new address alone (at the end: ${findings.get("addresses") ?? "?"})`,
        ],
        [
          moved === undefined || Number(moved) <= withinMs,
          `new address held after ${s(Number(moved ?? 0))} (rule: ≤ ${s(withinMs)})`,
        ],
        [findings.get("old-gone") === "yes", `old address still on pn0 at the end`],
        [
          findings.get("probes") === "ok",
          `probes to the new address: ${findings.get("probes") ?? "not run"}`,
        ],
      ]);
      // the timeline follows the old address, which is meant to go: say when the new one came
      const when = moved === undefined ? [] : [`moved to the new address in ${s(Number(moved))}`];
      return { pass: judged.pass, notes: [...judged.notes, ...when] };
    },
  },
  {
    name: "pool-reuse",
    fault:
      "a one-address dynamic pool, no reservation: after 3 lease times a second client asks the server, " +
      "then the server goes silent for 3 lease times",
    passRule:
      "the second client does not get the held address; no address loss and no failed probe throughout",
    serverAtStart: true,
    kea: "pool-per-node",
    restoreFrom: "loss",
    estimateMs: (lease) => READY_TIMEOUT_MS + BASELINE_MS + 6 * lease + EXCHANGE_MS,
    async run(ctx) {
      await settle(ctx);
      ctx.mark("fault");
      await ctx.sleep(3 * ctx.leaseMs);
      await Promise.all(ctx.runs.map((r, i) => secondClient(ctx, r, ctx.intruders[i]!, EXCHANGE_MS)));
      ctx.mark("second-client");
      ctx.topo.kea?.silence();
      ctx.mark("silence");
      await ctx.sleep(3 * ctx.leaseMs);
      ctx.topo.kea?.resume();
      ctx.mark("end");
    },
    judge(_t, m, findings) {
      const second = findings.get("second-client") ?? "not run";
      return verdict([
        [second === "refused", `the second client got ${second}: the server's lease had lapsed`],
        [m.addressLostMs === 0, `address absent for ${s(m.addressLostMs)}`],
        [m.probeFailures === 0, `${m.probeFailures} of ${m.probeTotal} probes failed`],
      ]);
    },
  },
  conflictScenario,
];

export function getScenario(name: ScenarioName): Scenario {
  const found = SCENARIOS.find((sc) => sc.name === name);
  if (!found) throw new Error(`unknown scenario ${name}`);
  return found;
}

export function allScenarios(): readonly Scenario[] {
  return SCENARIOS;
}

export function parseScenarioNames(names: readonly string[]): ScenarioName[] {
  const unknown = names.filter((n) => !(SCENARIO_NAMES as readonly string[]).includes(n));
  if (unknown.length > 0) {
    throw invalidInput(`unknown scenario ${unknown.map((n) => JSON.stringify(n)).join(", ")}`, "--scenario", [
      `valid scenarios: ${SCENARIO_NAMES.join(", ")}`,
    ]);
  }
  return [...new Set(names)] as ScenarioName[];
}
