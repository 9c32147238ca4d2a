import { describe, expect, it } from "vitest";
import { measure } from "../../src/lab/metrics.js";
import { absentIntervals, addressLostMs, timeToRestore, type Timeline } from "../../src/lab/timeline.js";

const present = (t: number) => ({ t, present: true });
const absent = (t: number) => ({ t, present: false });
const probe = (t: number, ok: boolean) => ({ t, ok, ms: 1 });

describe("timeline arithmetic", () => {
  it("GIVEN a loss in the window WHEN measured THEN its length counts and the restore time is its end", () => {
    const address = [present(0), absent(1000), present(1250)];
    expect(absentIntervals(address, 500, 2000)).toEqual([[1000, 1250]]);
    expect(addressLostMs(address, 500, 2000)).toBe(250);
    expect(timeToRestore(address, 1000, 2000)).toBe(250);
  });

  it("GIVEN an address that never came back THEN time to restore is null and the loss runs to the end", () => {
    const address = [present(0), absent(1000)];
    expect(addressLostMs(address, 500, 3000)).toBe(2000);
    expect(timeToRestore(address, 1000, 3000)).toBeNull();
  });

  it("GIVEN an address that was never lost THEN time to restore is 0", () => {
    expect(timeToRestore([present(0)], 500, 3000)).toBe(0);
  });

  it("GIVEN a window that starts while the address is absent THEN the loss starts at the window", () => {
    expect(absentIntervals([absent(0), present(800)], 500, 1000)).toEqual([[500, 800]]);
  });
});

describe("measure", () => {
  const timeline: Timeline = {
    address: [present(100), absent(2000), present(2004)],
    probes: [probe(900, true), probe(1500, true), probe(2001, false), probe(2100, true), probe(5000, false)],
    marks: [
      { t: 0, label: "start" },
      { t: 1000, label: "fault" },
      { t: 3000, label: "end" },
    ],
  };

  it("GIVEN restore from the loss THEN the metrics cover [fault, end] and the 4 ms gap", () => {
    expect(measure(timeline, "loss")).toEqual({
      addressLostMs: 4,
      probeFailures: 1,
      probeTotal: 3,
      timeToRestoreMs: 4,
      restoredAt: 2004,
    });
  });

  it("GIVEN restore from a mark THEN time to restore runs from that mark", () => {
    const t: Timeline = { ...timeline, marks: [...timeline.marks, { t: 1900, label: "boot" }] };
    expect(measure(t, "boot").timeToRestoreMs).toBe(104);
  });
});
