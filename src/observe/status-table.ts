import type { AttachmentStatus } from "../agent/events.js";
import type { StatusDocument } from "./status-file.js";
import type { Liveness } from "./status-read.js";
import { printable } from "../util/printable.js";

const COLUMNS = [
  "INTERFACE",
  "STATE",
  "ADDRESS",
  "HELD-SINCE",
  "LAST-RECONCILE",
  "REASSERTS",
  "CONFIRMED",
  "CONFLICT",
  "ERROR",
] as const;

/** `4 s`, `3m12s`, `2h05m`, `3d04h`: short enough for a table cell. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  return `${Math.floor(s / 86_400)}d${String(Math.floor((s % 86_400) / 3600)).padStart(2, "0")}h`;
}

const ago = (iso: string | null, now: number): string =>
  iso === null ? "-" : `${formatAge(now - Date.parse(iso))} ago`;
// Seconds are enough for an operator; the JSON keeps the milliseconds.
const time = (iso: string | null): string => (iso === null ? "-" : `${iso.slice(0, 19).replace("T", " ")}Z`);

function row(a: AttachmentStatus, now: number, kernel?: ReadonlyMap<string, readonly string[]>): string[] {
  const missing =
    a.cidr !== null && kernel !== undefined && !(kernel.get(a.interface) ?? []).includes(a.cidr);
  const address = a.cidr === null ? "-" : a.origin === null ? a.cidr : `${a.cidr} (${a.origin})`;
  return [
    a.interface,
    a.state,
    missing ? `${address} NOT ON LINK` : address,
    time(a.heldSince),
    ago(a.lastReconcileAt, now),
    String(a.reasserts),
    a.lastConfirmedAt === null
      ? "-"
      : `${ago(a.lastConfirmedAt, now)}${a.confirmedBy === null ? "" : ` by ${a.confirmedBy}`}`,
    a.conflict === null ? "-" : `${a.conflict.mac} for ${formatAge(now - Date.parse(a.conflict.since))}`,
    a.lastError ?? "-",
  ];
}

function table(rows: readonly (readonly string[])[]): string[] {
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  // The last column (ERROR) is not padded, so lines carry no trailing blanks.
  return rows.map((r) =>
    r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join("  "),
  );
}

/**
 * The `holdfast status` text: a headline about the agent, then one row per attachment.
 * A dead agent gets a shouted headline: the table below it is history, not the present.
 */
export function renderStatusTable(
  status: StatusDocument,
  liveness: Liveness,
  interfaces: readonly string[],
  now: number = Date.now(),
  /** what the kernel has on each interface (kernel-view.ts): an address it lacks is flagged */
  kernel?: ReadonlyMap<string, readonly string[]>,
): string {
  const { agent } = status;
  const headline = liveness.running
    ? `agent running: pid ${agent.pid}, version ${agent.version}, up ${formatAge(now - Date.parse(agent.startedAt))}, ` +
      `updated ${formatAge(liveness.ageMs)} ago`
    : `AGENT NOT RUNNING: ${liveness.reason ?? "stale"}; status below is from ${formatAge(liveness.ageMs)} ago ` +
      `and nothing is re-asserting these addresses`;
  const reported = new Set(status.attachments.map((a) => a.interface));
  const rows = [
    [...COLUMNS],
    ...status.attachments.map((a) => row(a, now, kernel).map(printable)),
    ...interfaces
      .filter((i) => !reported.has(i))
      .map((i) => [i, "not-reported", ...COLUMNS.slice(2).map(() => "-")]),
  ];
  const problems = (agent.problems ?? []).map((p) => `problem: ${printable(p)}`);
  return `${[printable(headline), ...problems, "", ...table(rows)].join("\n")}\n`;
}
