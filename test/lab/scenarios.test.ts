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
function judge(name: ScenarioName, timeline: Timeline): Verdict {
  const scenario = getScenario(name);
  return scenario.judge(timeline, measure(timeline, scenario.restoreFrom));
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

  it("GIVEN a prompt restore and then a relapse (a client's expiry takes it again) THEN it fails on the relapse", () => {
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

describe("conflict: reported within one probe interval, cleared after the other host leaves", () => {
  const gone = FAULT + 15_000;
  const contested = (t: number): boolean => t >= FAULT + 200 && t < FAULT + 1500;

  it("GIVEN a report 3 s in and cleared 6 s after the other host left THEN it passes, with what the probes saw", () => {
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
