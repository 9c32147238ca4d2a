/** Durations as people read them in a table: `0 ms`, `4 ms`, `1.3 s`, `62 s`. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms / 1000)} s`;
}

export function formatRestore(ms: number | null): string {
  return ms === null ? "not restored" : ms === 0 ? "never lost" : formatMs(ms);
}
