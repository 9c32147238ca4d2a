import { describe, expect, it } from "vitest";
import { measure } from "../../src/lab/metrics.js";
import { getScenario } from "../../src/lab/scenarios/index.js";
import type { ScenarioName, Verdict } from "../../src/lab/scenarios/types.js";
import type { AddressSample, Mark, ProbeSample, Timeline } from "../../src/lab/timeline.js";

const present = (t: number): AddressSample => ({ t, present: true });
const absent = (t: number): AddressSample => ({ t, present: false });
const mark = (t: number, label: string): Mark => ({ t, label });
/** a probe every 100 ms in [from, to), failing where `fails` says */
function probes(from: number, to: number, fails: (t: number) => boolean = () => false): ProbeSample[] {
  const out: ProbeSample[] = [];
  for (let t = from; t < to; t += 100) out.push({ t, ok: !fails(t), ms: 1 });
  return out;
}

/** The lab's judging path: the scenario's metrics over its reference, then its rule. */
function judge(name: ScenarioName, timeline: Timeline, findings = new Map<string, string>()): Verdict {
  const scenario = getScenario(name);
  return scenario.judge(timeline, measure(timeline, scenario.restoreFrom), findings);
}

// The fault at 10 s, the end at 80 s: every timeline below is epoch-free milliseconds.
const FAULT = 10_000;
const END = 80_000;
const marks = (...extra: Mark[]): Mark[] => [
  mark(0, "start"),
  mark(FAULT, "fault"),
  ...extra,
  mark(END, "end"),
];

describe("silent-server and agent-kill: never lost", () => {
  it("GIVEN the address held and every probe answered THEN both pass", () => {
    const timeline = { address: [present(1000)], probes: probes(0, END), marks: marks() };
    expect(judge("silent-server", timeline)).toEqual({ pass: true, notes: [] });
    expect(judge("agent-kill", timeline)).toEqual({ pass: true, notes: [] });
  });

  it("GIVEN the address lost at lease expiry for good THEN it fails with the loss and the failed probes", () => {
    const lost = 30_000;
    const timeline = {
      address: [present(1000), absent(lost)],
      probes: probes(0, END, (t) => t >= lost),
      marks: marks(),
    };
    expect(judge("silent-server", timeline)).toEqual({
      pass: false,
      notes: ["address absent for 50 s", "500 of 700 probes failed"],
    });
  });

  it("GIVEN the address kept but one probe failing after the kill THEN it fails on the probe alone", () => {
    const timeline = {
      address: [present(1000)],
      probes: probes(0, END, (t) => t === 12_000),
      marks: marks(),
    };
    expect(judge("agent-kill", timeline)).toEqual({ pass: false, notes: ["1 of 700 probes failed"] });
  });
});

describe("address-flush and link-recreate: restored promptly and held", () => {
  it("GIVEN the address back 300 ms after the flush and held THEN it passes", () => {
    const timeline = {
      address: [present(1000), absent(FAULT), present(FAULT + 300)],
      probes: [],
      marks: marks(),
    };
    expect(judge("address-flush", timeline)).toEqual({ pass: true, notes: [] });
  });

  it("GIVEN a late restore (1.5 s) THEN it fails naming the rule", () => {
    const timeline = {
      address: [present(1000), absent(FAULT), present(FAULT + 1500)],
      probes: [],
      marks: marks(),
    };
    expect(judge("link-recreate", timeline)).toEqual({
      pass: false,
      notes: ["restored after 1.5 s (rule: ≤ 1.0 s)"],
    });
  });

  it("fails a prompt restore that relapses (a client's expiry takes it again)", () => {
    const timeline = {
      address: [present(1000), absent(FAULT), present(FAULT + 200), absent(40_000), present(40_010)],
      probes: [],
      marks: marks(),
    };
    expect(judge("address-flush", timeline)).toEqual({
      pass: false,
      notes: ["address lost again 1× after the restore"],
    });
  });

  it("GIVEN the address never back THEN it fails saying so", () => {
    const timeline = { address: [present(1000), absent(FAULT)], probes: [], marks: marks() };
    expect(judge("address-flush", timeline)).toEqual({
      pass: false,
      notes: ["address not back by the end of the run"],
    });
  });
});

describe("reboot-silent: restore measured from the boot", () => {
  const boot = FAULT + 1000;
  it("GIVEN the address back 1.5 s after the implementation started THEN it passes", () => {
    const timeline = {
      address: [present(1000), absent(FAULT + 5), present(boot + 1500)],
      probes: [],
      marks: marks(mark(boot, "boot")),
    };
    expect(judge("reboot-silent", timeline)).toEqual({ pass: true, notes: [] });
  });

  it("GIVEN the address back 2.5 s after the start THEN it fails on the 2 s rule", () => {
    const timeline = {
      address: [present(1000), absent(FAULT + 5), present(boot + 2500)],
      probes: [],
      marks: marks(mark(boot, "boot")),
    };
    expect(judge("reboot-silent", timeline)).toEqual({
      pass: false,
      notes: ["restored after 2.5 s (rule: ≤ 2.0 s)"],
    });
  });
});

describe("parent-flap: never lost, probes back soon after carrier", () => {
  const carrierBack = FAULT + 3000;
  const flapMarks = marks(mark(carrierBack, "carrier-back"));
  const duringFlap = (t: number): boolean => t >= FAULT && t < carrierBack + 500;

  it("GIVEN probes failing only during the flap and just after carrier return THEN it passes", () => {
    const timeline = { address: [present(1000)], probes: probes(0, END, duringFlap), marks: flapMarks };
    expect(judge("parent-flap", timeline)).toEqual({ pass: true, notes: [] });
  });

  it("GIVEN a probe failing 2.5 s after carrier return THEN it fails on the late probe", () => {
    const late = (t: number): boolean => duringFlap(t) || t === carrierBack + 2500;
    const timeline = { address: [present(1000)], probes: probes(0, END, late), marks: flapMarks };
    expect(judge("parent-flap", timeline)).toEqual({
      pass: false,
      notes: ["1 probes failed later than 2.0 s after carrier return"],
    });
  });

  it("GIVEN the address dropped on carrier loss and never back THEN it fails on the loss and the end state", () => {
    const timeline = {
      address: [present(1000), absent(FAULT + 100)],
      probes: probes(0, END, (t) => t >= FAULT),
      marks: flapMarks,
    };
    const verdict = judge("parent-flap", timeline);
    expect(verdict.pass).toBe(false);
    expect(verdict.notes).toEqual([
      "address absent for 70 s",
      "650 probes failed later than 2.0 s after carrier return",
      "address absent at the end",
    ]);
  });
});

describe("address-flush: a flush that deletes in rounds is one fault", () => {
  // `ip addr flush` deletes, dumps again, deletes what it finds: a restore 1 ms after the
  // first deletion is deleted again by the same command, which returns 3 ms after it began.
  const rounds = [present(1000), absent(FAULT), present(FAULT + 1), absent(FAULT + 2), present(FAULT + 3)];

  it("passes a restore deleted again within the flush, timed from the last deletion", () => {
    const timeline = { address: rounds, probes: [], marks: marks(mark(FAULT + 2.5, "fault-end")) };
    const measured = measure(timeline, "loss");
    expect(measured.timeToRestoreMs, "from the second deletion (t+2) to the restore (t+3)").toBe(1);
    expect(measured.restoredAt).toBe(FAULT + 3);
    expect(measured.addressLostMs, "both rounds' absences").toBe(2);
    expect(judge("address-flush", timeline)).toEqual({ pass: true, notes: [] });
  });

  it("GIVEN the same deletion after the flush command returned THEN it counts as a relapse and fails", () => {
    const timeline = { address: rounds, probes: [], marks: marks(mark(FAULT + 1.5, "fault-end")) };
    expect(measure(timeline, "loss").timeToRestoreMs).toBe(1);
    expect(judge("address-flush", timeline)).toEqual({
      pass: false,
      notes: ["address lost again 1× after the restore"],
    });
  });

  it("GIVEN a loss long after the flush ended THEN it still fails", () => {
    const timeline = {
      address: [...rounds, absent(40_000), present(40_010)],
      probes: [],
      marks: marks(mark(FAULT + 2.5, "fault-end")),
    };
    expect(judge("address-flush", timeline)).toEqual({
      pass: false,
      notes: ["address lost again 1× after the restore"],
    });
  });
});

describe("ipam-change and pool-reuse: the server speaks", () => {
  const held = { address: [present(1000)], probes: probes(0, END), marks: marks() };

  it("passes ipam-change when the new address is held and probed in time", () => {
    const findings = new Map([
      ["rule-ms", "10000"],
      ["moved-ms", "6100"],
      ["old-gone", "yes"],
      ["probes", "ok"],
    ]);
    expect(judge("ipam-change", held, findings)).toEqual({
      pass: true,
      notes: ["moved to the new address in 6.1 s"],
    });
  });

  it("GIVEN the stale address held to the end THEN ipam-change fails naming what pn0 holds", () => {
    const findings = new Map([
      ["rule-ms", "10000"],
      ["addresses", "198.18.0.11/22"],
      ["old-gone", "no"],
      ["probes", "0 of 5 succeeded"],
    ]);
    expect(judge("ipam-change", held, findings)).toEqual({
      pass: false,
      notes: [
        "never held the new address alone (at the end: 198.18.0.11/22)",
        "old address still on pn0 at the end",
        "probes to the new address: 0 of 5 succeeded",
      ],
    });
  });

  it("fails pool-reuse when a second client gets the held address", () => {
    expect(judge("pool-reuse", held, new Map([["second-client", "198.18.0.11/22"]]))).toEqual({
      pass: false,
      notes: ["the second client got 198.18.0.11/22: the server's lease had lapsed"],
    });
    expect(judge("pool-reuse", held, new Map([["second-client", "refused"]]))).toEqual({
      pass: true,
      notes: [],
    });
  });
});

describe("conflict: reported within one probe interval, cleared after the other host leaves", () => {
  const gone = FAULT + 15_000;
  const contested = (t: number): boolean => t >= FAULT + 200 && t < FAULT + 1500;

  it("GIVEN a report after 3 s, cleared 6 s after the other host left THEN it passes, with the probes", () => {
    const timeline = {
      address: [present(1000)],
      probes: probes(0, END, contested),
      marks: marks(
        mark(FAULT + 3000, "conflict-reported"),
        mark(gone, "conflict-end"),
        mark(gone + 6000, "report-cleared"),
      ),
    };
    expect(judge("conflict", timeline)).toEqual({
      pass: true,
      notes: ["runner probes while contested: 13 of 151 failed", "address kept"],
    });
  });

  it("GIVEN no report at all (the implementation notices nothing) THEN it fails saying so", () => {
    const timeline = {
      address: [present(1000)],
      probes: probes(0, END),
      marks: marks(mark(gone, "conflict-end")),
    };
    expect(judge("conflict", timeline)).toEqual({
      pass: false,
      notes: ["no conflict reported", "runner probes while contested: 0 of 151 failed", "address kept"],
    });
  });

  it("GIVEN a report after 7 s and never cleared THEN it fails on both", () => {
    const timeline = {
      address: [present(1000)],
      probes: probes(0, END),
      marks: marks(mark(FAULT + 7000, "conflict-reported"), mark(gone, "conflict-end")),
    };
    expect(judge("conflict", timeline).notes.slice(0, 2)).toEqual([
      "conflict reported after 7.0 s (rule: ≤ 5.0 s)",
      "report not cleared within 9.0 s of the other host leaving",
    ]);
  });
});
