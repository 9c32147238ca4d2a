import type { LabResult } from "../run.js";
import { formatMs, formatRestore } from "./format.js";

const HEADERS = ["scenario", "impl", "pass", "address lost", "failed probes", "time to restore"] as const;

function row(r: LabResult): string[] {
  return [
    r.scenario,
    r.impl,
    r.pass ? "pass" : "FAIL",
    formatMs(r.addressLostMs),
    `${r.probeFailures}/${r.probeTotal}`,
    formatRestore(r.timeToRestoreMs),
  ];
}

/** The stdout table: scenario × implementation, then the notes of every run that has some. */
export function renderTable(results: readonly LabResult[]): string {
  const rows = [HEADERS.slice(), ...results.map(row)];
  const widths = HEADERS.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  const out = [line(rows[0]!), widths.map((w) => "-".repeat(w)).join("  "), ...rows.slice(1).map(line)];
  const noted = results.filter((r) => r.notes.length > 0);
  if (noted.length > 0) {
    out.push("", "notes:");
    for (const r of noted) out.push(`  ${r.scenario} × ${r.impl}: ${r.notes.join("; ")}`);
  }
  return `${out.join("\n")}\n`;
}
