import { describe, expect, it } from "vitest";
import { duration, formatDuration, parseDuration } from "../../src/config/duration.js";

describe("parseDuration", () => {
  it.each([
    ["0ms", 0],
    ["1ms", 1],
    ["500ms", 500],
    ["1s", 1000],
    ["1.5s", 1500],
    ["15s", 15_000],
    ["10m", 600_000],
    ["1h", 3_600_000],
    ["0.25h", 900_000],
    [" 15s ", 15_000],
    // sub-millisecond fractions round to the nearest ms
    ["0.4ms", 0],
    ["0.5ms", 1],
    ["1.0004s", 1000],
  ])("GIVEN %j THEN %d ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(["15", "15 s", "-1s", "1d", "s", "1.s", ".5s", "1e3ms", "15sec", "1h30m", "", "15S"])(
    "GIVEN %j THEN not a duration",
    (text) => {
      expect(parseDuration(text)).toBeUndefined();
    },
  );
});

describe("formatDuration", () => {
  it.each([
    [3_600_000, "1h"],
    [7_200_000, "2h"],
    [60_000, "1m"],
    [5_400_000, "90m"],
    [1000, "1s"],
    [90_000, "90s"],
    [100, "100ms"],
    [1500, "1500ms"],
    [0, "0ms"],
  ])("GIVEN %d ms THEN %s (the largest unit that divides it)", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe("duration(min, max): a bounded zod field", () => {
  const field = duration(1000, 60_000);
  const hint = 'expected a duration like "500ms", "15s", "10m" or "1h", between 1s and 1m';

  it("GIVEN exactly min or max THEN accepted as ms; one ms outside THEN refused", () => {
    expect(field.parse("1s")).toBe(1000);
    expect(field.parse("1m")).toBe(60_000);
    expect(field.safeParse("999ms").error?.issues.map((i) => i.message)).toEqual([`${hint}, got "999ms"`]);
    expect(field.safeParse("60001ms").error?.issues.map((i) => i.message)).toEqual([
      `${hint}, got "60001ms"`,
    ]);
  });

  it("GIVEN no string THEN refused with the same hint", () => {
    expect(field.safeParse(5).error?.issues.map((i) => i.message)).toEqual([hint]);
  });
});
