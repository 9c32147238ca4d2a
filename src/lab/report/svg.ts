import type { Timeline } from "../timeline.js";

const WIDTH = 960;
const LEFT = 90;
const RIGHT = 20;
const LANE_H = 18;
const ADDRESS_Y = 26;
const PROBE_Y = 56;
const AXIS_Y = 86;
const HEIGHT = 116;
const OK = "#2e9d4f";
const BAD = "#d1382e";
const CONFLICT = "#f0b400";
const PROBE_GAP_MS = 150;
/** a 4 ms loss is a fraction of a pixel on a 70 s axis: draw it anyway */
const MIN_BAD_PX = 2;

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

interface Segment {
  readonly from: number;
  readonly to: number;
  readonly good: boolean;
}

/** Address presence as segments over [from, to]. */
function addressSegments(t: Timeline, from: number, to: number): Segment[] {
  const out: Segment[] = [];
  let present = false;
  let since = from;
  for (const sample of t.address) {
    if (sample.t <= from) {
      present = sample.present;
      continue;
    }
    if (sample.t > to) break;
    if (sample.present === present) continue;
    out.push({ from: since, to: sample.t, good: present });
    present = sample.present;
    since = sample.t;
  }
  out.push({ from: since, to, good: present });
  return out.filter((s) => s.to > s.from);
}

/** Consecutive probes with the same outcome merge into one segment; a gap in probing stays a gap. */
function probeSegments(t: Timeline, from: number, to: number): Segment[] {
  const out: { from: number; to: number; good: boolean }[] = [];
  for (const p of t.probes) {
    if (p.t < from || p.t > to) continue;
    const last = out[out.length - 1];
    const end = p.t + Math.min(100, PROBE_GAP_MS);
    if (last && last.good === p.ok && p.t - last.to <= PROBE_GAP_MS) last.to = end;
    else out.push({ from: p.t, to: end, good: p.ok });
  }
  return out;
}

/**
 * The `conflict` scenario's window (another host answered for the address, from `fault` to
 * `conflict-end`) as a band behind both lanes, so what the probes did then stands out.
 */
function conflictWindow(t: Timeline, x: (time: number) => number): string[] {
  const from = t.marks.find((m) => m.label === "fault")?.t;
  const to = t.marks.find((m) => m.label === "conflict-end")?.t;
  if (from === undefined || to === undefined) return [];
  return [
    `<rect x="${x(from).toFixed(1)}" y="${ADDRESS_Y - 4}" width="${Math.max(1, x(to) - x(from)).toFixed(1)}" height="${PROBE_Y + LANE_H + 4 - (ADDRESS_Y - 4)}" fill="${CONFLICT}" fill-opacity="0.35"><title>conflict: another host answers for the address</title></rect>`,
  ];
}

/**
 * One run's timeline as plain SVG (no script): a lane for the address (present/absent), a
 * lane for the probes (ok/failed), the scenario's marks as dashed lines, seconds on the axis.
 */
export function renderTimelineSvg(t: Timeline, title: string): string {
  const start = t.marks.find((m) => m.label === "start")?.t ?? t.marks[0]?.t ?? 0;
  const end =
    t.marks.find((m) => m.label === "end")?.t ?? Math.max(start + 1000, ...t.probes.map((p) => p.t));
  const span = Math.max(1, end - start);
  const x = (time: number): number => LEFT + ((time - start) / span) * (WIDTH - LEFT - RIGHT);
  const rect = (s: Segment, y: number, what: string): string =>
    `<rect x="${x(s.from).toFixed(1)}" y="${y}" width="${Math.max(s.good ? 0.6 : MIN_BAD_PX, x(s.to) - x(s.from)).toFixed(1)}" height="${LANE_H}" fill="${s.good ? OK : BAD}"><title>${what} ${s.good ? "ok" : "down"} ${((s.from - start) / 1000).toFixed(2)}–${((s.to - start) / 1000).toFixed(2)} s</title></rect>`;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${escapeXml(title)}">`,
    `<rect x="0" y="0" width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>`,
    `<text x="8" y="${ADDRESS_Y + 13}" font-size="12" font-family="sans-serif">address</text>`,
    `<text x="8" y="${PROBE_Y + 13}" font-size="12" font-family="sans-serif">probe /up</text>`,
    `<rect x="${LEFT}" y="${ADDRESS_Y}" width="${WIDTH - LEFT - RIGHT}" height="${LANE_H}" fill="#eee"/>`,
    `<rect x="${LEFT}" y="${PROBE_Y}" width="${WIDTH - LEFT - RIGHT}" height="${LANE_H}" fill="#eee"/>`,
    ...conflictWindow(t, x),
    ...addressSegments(t, start, end).map((s) => rect(s, ADDRESS_Y, "address")),
    ...probeSegments(t, start, end).map((s) => rect(s, PROBE_Y, "probe")),
  ];
  const step = span > 120_000 ? 20_000 : span > 40_000 ? 10_000 : 5_000;
  for (let ms = 0; ms <= span; ms += step) {
    parts.push(
      `<line x1="${x(start + ms)}" y1="${AXIS_Y}" x2="${x(start + ms)}" y2="${AXIS_Y + 5}" stroke="#555"/>`,
      `<text x="${x(start + ms)}" y="${AXIS_Y + 17}" font-size="10" font-family="sans-serif" text-anchor="middle">${ms / 1000} s</text>`,
    );
  }
  parts.push(`<line x1="${LEFT}" y1="${AXIS_Y}" x2="${WIDTH - RIGHT}" y2="${AXIS_Y}" stroke="#555"/>`);
  // `fault-end` is for the arithmetic; it sits milliseconds after `fault` and would cover its label
  for (const m of t.marks) {
    if (m.label === "start" || m.label === "fault-end" || m.t < start || m.t > end) continue;
    parts.push(
      `<line x1="${x(m.t).toFixed(1)}" y1="10" x2="${x(m.t).toFixed(1)}" y2="${AXIS_Y}" stroke="#333" stroke-dasharray="3,2"/>`,
      `<text x="${(x(m.t) + 3).toFixed(1)}" y="19" font-size="10" font-family="sans-serif">${escapeXml(m.label)}</text>`,
    );
  }
  parts.push("</svg>");
  return parts.join("\n");
}
