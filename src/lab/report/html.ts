import type { LabReport, LabRun } from "../run.js";
import { formatMs, formatRestore } from "./format.js";
import { escapeXml, renderTimelineSvg } from "./svg.js";

const STYLE = `body{font-family:sans-serif;margin:24px;color:#222;max-width:1000px}
table{border-collapse:collapse;margin:12px 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}
.pass{color:#2e7d32;font-weight:bold}.fail{color:#c62828;font-weight:bold}
section{margin:28px 0}h2{font-size:17px;margin:0 0 4px}.notes{color:#555;font-size:13px}
.legend span{display:inline-block;width:12px;height:12px;vertical-align:middle;margin:0 4px 0 12px}`;

function cells(r: LabRun["result"]): string {
  return [
    escapeXml(r.scenario),
    escapeXml(r.impl),
    r.pass ? '<span class="pass">pass</span>' : '<span class="fail">FAIL</span>',
    formatMs(r.addressLostMs),
    `${r.probeFailures}/${r.probeTotal}`,
    escapeXml(formatRestore(r.timeToRestoreMs)),
  ]
    .map((c) => `<td>${c}</td>`)
    .join("");
}

function section(run: LabRun, index: number): string {
  const r = run.result;
  const title = `${r.scenario} × ${r.impl}`;
  return `<section id="run-${index}">
<h2>${escapeXml(title)} — ${r.pass ? '<span class="pass">pass</span>' : '<span class="fail">FAIL</span>'}</h2>
<p class="notes">address lost ${formatMs(r.addressLostMs)} · ${r.probeFailures} of ${r.probeTotal} probes failed · time to restore ${escapeXml(formatRestore(r.timeToRestoreMs))}${r.notes.length ? ` · ${escapeXml(r.notes.join("; "))}` : ""}</p>
${renderTimelineSvg(run.timeline, title)}
</section>`;
}

/** A self-contained page: summary table, then one inline-SVG timeline per run. No script. */
export function renderHtml(report: LabReport): string {
  const env = report.environment;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>holdfast lab report</title><style>${STYLE}</style></head>
<body>
<h1>holdfast lab</h1>
<p>${escapeXml(`holdfast ${env.holdfast}, Node ${env.node}, kernel ${env.kernel}, ${env.cpus} CPUs, lease ${env.leaseSeconds} s, started ${env.startedAt}, took ${formatMs(env.durationMs)}`)}</p>
<table><thead><tr><th>scenario</th><th>impl</th><th>pass</th><th>address lost</th><th>failed probes</th><th>time to restore</th></tr></thead>
<tbody>${report.runs.map((run, i) => `<tr>${cells(run.result).replace("<td>", `<td><a href="#run-${i}">`).replace("</td>", "</a></td>")}</tr>`).join("\n")}</tbody></table>
<p class="legend">Timelines:<span style="background:#2e9d4f"></span>address present / probe ok<span style="background:#d1382e"></span>address absent / probe failed<span style="background:#eee"></span>no probe</p>
${report.runs.map(section).join("\n")}
</body></html>
`;
}
