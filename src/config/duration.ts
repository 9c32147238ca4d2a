import { z } from "zod";

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;

/** Parses `500ms`, `15s`, `10m`, `1h` into milliseconds; undefined when not a duration. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match) return undefined;
  const [, amount, unit] = match;
  return Math.round(Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS]);
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0 && ms > 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** A zod field that accepts a duration string and yields milliseconds, within bounds. */
export function duration(minMs: number, maxMs: number) {
  const hint = `a duration like "500ms", "15s", "10m" or "1h", between ${formatDuration(minMs)} and ${formatDuration(maxMs)}`;
  return z.string({ error: `expected ${hint}` }).transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined || ms < minMs || ms > maxMs) {
      ctx.addIssue({ code: "custom", message: `expected ${hint}, got ${JSON.stringify(text)}` });
      return z.NEVER;
    }
    return ms;
  });
}
