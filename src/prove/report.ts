import { formatMs } from "../lab/report/format.js";
import { escapeXml, renderTimelineSvg } from "../lab/report/svg.js";
import type { ProveReport, StepResult } from "./types.js";

const MEASURES: Record<StepResult["name"], string> = {
  "first-boot": "cloud-init start → held",
  "silent-server": "silence",
  "reboot-silent": "kernel start → held",
  dependents: "kernel start → dependent up",
  "pre-fix": "silence → address lost",
};

/** The stdout table: one row per step, the detail on the lines below it. */
export function renderProveTable(report: ProveReport): string {
  const rows = report.steps.map((s) => [s.name, s.pass ? "pass" : "FAIL", formatMs(s.ms), MEASURES[s.name]]);
  const headers = ["step", "pass", "ms", "measured"];
  const all = [headers, ...rows];
  const widths = headers.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  const out = [
    `holdfast prove ${report.spec}: ${report.interface} VLAN ${report.vlanId}, kernel ${report.kernel}, ${report.accel}, ${formatMs(report.durationMs)}`,
    line(headers),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...rows.map(line),
    "",
    ...report.steps.map((s) => `${s.name}: ${s.detail}`),
    "",
    "phases:",
    ...report.phases.map((p) => `  ${p.name.padEnd(40)} ${formatMs(p.ms)}`),
  ];
  return `${out.join("\n")}\n`;
}

/** `--json`: `{ spec, kernel, accel, steps: [{ name, pass, ms, detail }] }` (design §6) plus the figures. */
export function renderProveJson(report: ProveReport): string {
  const { spec, kernel, accel, steps, figures, phases, durationMs } = report;
  return `${JSON.stringify({ spec, kernel, accel, steps, figures, phases, durationMs }, null, 2)}\n`;
}

const STYLE = `body{font-family:sans-serif;margin:24px;color:#222;max-width:1000px}
table{border-collapse:collapse;margin:12px 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
.pass{color:#2e7d32;font-weight:bold}.fail{color:#c62828;font-weight:bold}section{margin:28px 0}h2{font-size:17px}
.legend span{display:inline-block;width:12px;height:12px;vertical-align:middle;margin:0 4px 0 12px}`;

/** A self-contained page like the lab's: the steps, then one timeline per node VM. */
export function renderProveHtml(report: ProveReport): string {
  const verdict = (pass: boolean) =>
    pass ? '<span class="pass">pass</span>' : '<span class="fail">FAIL</span>';
  const rows = report.steps
    .map(
      (s) =>
        `<tr><td>${escapeXml(s.name)}</td><td>${verdict(s.pass)}</td><td>${escapeXml(formatMs(s.ms))}</td><td>${escapeXml(s.detail)}</td></tr>`,
    )
    .join("\n");
  const sections = report.timelines
    .map(
      (t) => `<section><h2>${escapeXml(t.title)}</h2>\n${renderTimelineSvg(t.timeline, t.title)}\n</section>`,
    )
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>holdfast prove report</title><style>${STYLE}</style></head>
<body>
<h1>holdfast prove</h1>
<p>${escapeXml(`${report.spec}: ${report.interface} VLAN ${report.vlanId}; kernel ${report.kernel}; ${report.accel} (${report.accelWhy}); took ${formatMs(report.durationMs)}`)}</p>
<table><thead><tr><th>step</th><th>pass</th><th>ms</th><th>detail</th></tr></thead>
<tbody>${rows}</tbody></table>
<p class="legend">Timelines:<span style="background:#2e9d4f"></span>address present / probe ok<span style="background:#d1382e"></span>address absent / probe failed<span style="background:#eee"></span>no probe</p>
${sections}
</body></html>
`;
}
