import { describe, expect, it } from "vitest";
import { backoffDelay } from "../../src/agent/backoff.js";

// The random draw is injected, so each bound is hit exactly: 0 is the floor (half the ceiling),
// just under 1 the top of the jitter range, and the ceiling doubles per attempt up to the cap.
const at = (random: number) => () => random;
const OPTIONS = { baseMs: 1000, maxMs: 30_000 };

describe("backoffDelay", () => {
  it("GIVEN attempts 0..4 and the top draw THEN the ceiling doubles: 1, 2, 4, 8, 16 s", () => {
    expect([0, 1, 2, 3, 4].map((n) => backoffDelay(n, { ...OPTIONS, random: at(1) }))).toEqual([
      1000, 2000, 4000, 8000, 16_000,
    ]);
  });

  it("GIVEN the lowest draw THEN the floor is half the ceiling, never less", () => {
    expect([0, 1, 2, 3, 4].map((n) => backoffDelay(n, { ...OPTIONS, random: at(0) }))).toEqual([
      500, 1000, 2000, 4000, 8000,
    ]);
  });

  it("GIVEN a middle draw THEN the delay is that far between floor and ceiling", () => {
    expect(backoffDelay(3, { ...OPTIONS, random: at(0.5) })).toBe(6000); // 4 s + 0.5 × 4 s
    expect(backoffDelay(3, { ...OPTIONS, random: at(0.25) })).toBe(5000);
  });

  it("GIVEN attempts past the cap THEN the ceiling stays at maxMs: 15-30 s, for any attempt", () => {
    for (const attempt of [5, 6, 10, 30, 31, 1000]) {
      expect(backoffDelay(attempt, { ...OPTIONS, random: at(1) }), `attempt ${attempt}, top draw`).toBe(
        30_000,
      );
      expect(backoffDelay(attempt, { ...OPTIONS, random: at(0) }), `attempt ${attempt}, lowest draw`).toBe(
        15_000,
      );
    }
  });

  it("GIVEN a cap below the base THEN the cap wins from the first attempt", () => {
    expect(backoffDelay(0, { baseMs: 1000, maxMs: 400, random: at(1) })).toBe(400);
    expect(backoffDelay(0, { baseMs: 1000, maxMs: 400, random: at(0) })).toBe(200);
  });

  it("GIVEN every draw in [0, 1) THEN the delay stays within [ceiling / 2, ceiling], whole ms", () => {
    for (let attempt = 0; attempt < 8; attempt++) {
      const ceiling = Math.min(30_000, 1000 * 2 ** attempt);
      for (const r of [0, 0.001, 0.1, 0.333, 0.5, 0.9, 0.999999]) {
        const delay = backoffDelay(attempt, { ...OPTIONS, random: at(r) });
        expect(delay, `attempt ${attempt}, draw ${r}`).toBeGreaterThanOrEqual(ceiling / 2);
        expect(delay, `attempt ${attempt}, draw ${r}`).toBeLessThanOrEqual(ceiling);
        expect(Number.isInteger(delay), `attempt ${attempt}, draw ${r}: ${delay}`).toBe(true);
      }
    }
  });

  it("GIVEN no random THEN Math.random draws, within the same range", () => {
    for (let i = 0; i < 50; i++) {
      const delay = backoffDelay(2, OPTIONS);
      expect(delay).toBeGreaterThanOrEqual(2000);
      expect(delay).toBeLessThanOrEqual(4000);
    }
  });
});
