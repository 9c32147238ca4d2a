import { describe, expect, it } from "vitest";
import {
  describeTrials,
  formatMs,
  minTrialsForInterval,
  percentile,
  quantileInterval,
} from "../../bench/stats.js";

const oneTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe("bench statistics", () => {
  it("GIVEN 1..100 THEN nearest-rank p50 is 50 and p99 is 99; with 50 trials p99 is the max", () => {
    expect(percentile({ values: oneTo(100), censored: 0 }, 50)).toEqual({ kind: "value", ms: 50 });
    expect(percentile({ values: oneTo(100), censored: 0 }, 99)).toEqual({ kind: "value", ms: 99 });
    expect(percentile({ values: oneTo(50), censored: 0 }, 99)).toEqual({ kind: "value", ms: 50 });
  });

  it("GIVEN trials over the budget THEN they rank last and are never dropped", () => {
    // 3 restored, 1 not: p50 is the 2nd of 4, p99 falls on the censored one
    const trials = { values: [5200, 5000, 5100], censored: 1, budgetMs: 120_000 };
    expect(percentile(trials, 50)).toEqual({ kind: "value", ms: 5100 });
    expect(percentile(trials, 99)).toEqual({ kind: "above-budget" });
    // dropping it instead would have made p99 5.2 s
    expect(percentile({ values: [5200, 5000, 5100], censored: 0 }, 99)).toEqual({ kind: "value", ms: 5200 });
  });

  it("GIVEN the textbook case THEN the median's 95 % interval for n = 50 is ranks 18..33", () => {
    expect(quantileInterval(50, 0.5)).toEqual({ lo: 18, hi: 33 });
    expect(quantileInterval(5, 0.5)).toBeUndefined();
    expect(minTrialsForInterval(0.5)).toBe(6);
    // 0.99^n <= 0.025 first at n = 368: fewer trials cannot bound p99 from above
    expect(minTrialsForInterval(0.99)).toBe(368);
  });

  it("GIVEN few trials THEN the line says what p99 rests on", () => {
    expect(describeTrials({ values: [5000, 5100, 5200], censored: 1, budgetMs: 120_000 })).toBe(
      "n 4 (1 over the 120 s budget): p50 5.10 s (no 95 % interval from 4 trials), p99 > 120 s (n < 100: the max of 4, not a p99 estimate)",
    );
    expect(describeTrials({ values: oneTo(50).map((v) => v / 100), censored: 0, budgetMs: 1000 })).toBe(
      "n 50 (0 over the 1.00 s budget): p50 0.250 ms [0.180 ms to 0.330 ms, 95 %], p99 0.500 ms (n < 100: the max of 50, not a p99 estimate)",
    );
  });

  it("GIVEN sub-millisecond times THEN three significant figures, not whole ms", () => {
    expect([formatMs(0.4123), formatMs(3.14159), formatMs(25.04), formatMs(5034.2)]).toEqual([
      "0.412 ms",
      "3.14 ms",
      "25.0 ms",
      "5.03 s",
    ]);
  });
});
