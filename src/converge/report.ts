import type { Plan, PlanKind } from "./plan.js";
import { RemoteCommandError } from "./ssh.js";

/**
 * What converge shows: one live line per host on a terminal, a summary table at the end,
 * or one JSON document for machines. Nothing here ever prints a secret: converge handles
 * none (ssh keys stay with ssh and its agent).
 */

export type Stage = "probe" | "plan" | "apply" | "verify";
export type Outcome = "converged" | "unchanged" | "planned" | "failed";

export interface HostResult {
  readonly name: string;
  readonly address: string;
  readonly outcome: Outcome;
  readonly plan: Plan | undefined;
  /** the stage that failed */
  readonly failedAt: Stage | undefined;
  readonly error: string | undefined;
  /** the error underneath `error`: the ssh or exec failure, with the remote's last lines */
  readonly cause?: FailureCause;
  readonly held: readonly { readonly interface: string; readonly cidr: string }[];
  readonly changes: readonly string[];
  readonly durationMs: number;
}

/**
 * The underlying error of a failed host, as execa reports a failed command: what ran, how it
 * ended, and the last lines it wrote on stderr, which is where ssh and scripts say why.
 */
export interface FailureCause {
  /** "Command failed with exit code 255: ssh … -- cache-c bash -s", "spawn ssh ENOENT" */
  readonly message: string;
  /** the local command that ran, when one did */
  readonly command?: string;
  /** its exit code; null when a signal or the deadline ended it */
  readonly exitCode?: number | null;
  readonly timedOut?: boolean;
  /** the system error's code ("ENOENT") when the command could not be started */
  readonly code?: string;
  /** the last non-empty lines of its stderr, oldest first */
  readonly stderrTail?: readonly string[];
}

/** The cause to report for a stage's error: the remote command that failed, or the innermost error. */
export function causeOf(error: unknown): FailureCause | undefined {
  const chain: unknown[] = [];
  for (let e: unknown = error; e instanceof Error && !chain.includes(e); e = e.cause) chain.push(e);
  const remote = chain.find((e): e is RemoteCommandError => e instanceof RemoteCommandError);
  if (remote) {
    return {
      message: remote.message,
      command: remote.command,
      exitCode: remote.exitCode,
      timedOut: remote.timedOut,
      stderrTail: remote.stderrTail,
    };
  }
  // only what lies underneath: an error of our own with no cause says all in its message
  const innermost = chain.length > 1 ? chain.at(-1) : undefined;
  if (!(innermost instanceof Error)) return undefined;
  const code = (innermost as NodeJS.ErrnoException).code;
  return { message: innermost.message, ...(typeof code === "string" ? { code } : {}) };
}

/** A failed host's cause as lines under the table: the error, then the remote's last lines. */
function causeLines(host: HostResult): string[] {
  const cause = host.cause;
  if (host.outcome !== "failed" || !cause) return [];
  return [`${host.name}: cause: ${cause.message}`, ...(cause.stderrTail ?? []).map((line) => `  | ${line}`)];
}

export interface ConvergeReport {
  readonly version: 1;
  readonly dryRun: boolean;
  readonly hosts: readonly HostResult[];
  readonly summary: Readonly<Record<Outcome, number>> & { readonly total: number };
  readonly durationMs: number;
}

export function summarize(hosts: readonly HostResult[]): ConvergeReport["summary"] {
  const count = (o: Outcome) => hosts.filter((h) => h.outcome === o).length;
  return {
    total: hosts.length,
    converged: count("converged"),
    unchanged: count("unchanged"),
    planned: count("planned"),
    failed: count("failed"),
  };
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;

/** What a host is doing right now, as its live line shows it. */
export type Progress =
  | { readonly stage: "waiting" }
  | { readonly stage: Stage; readonly plan?: PlanKind }
  | { readonly stage: "done"; readonly result: HostResult };

function detailOf(result: HostResult): string {
  if (result.outcome === "failed") return `${result.failedAt ?? "?"}: ${result.error ?? "failed"}`;
  if (result.outcome === "planned") return (result.plan?.reasons ?? []).join("; ");
  const held = result.held.map((h) => `${h.interface} ${h.cidr}`).join(", ");
  if (result.outcome === "unchanged") return `held ${held}`;
  const n = result.changes.length;
  return `held ${held} (${n === 1 ? "1 change" : `${n} changes`})`;
}

export function progressLine(name: string, width: number, progress: Progress): string {
  const host = name.padEnd(width);
  switch (progress.stage) {
    case "waiting":
      return `${host}  waiting`;
    case "done": {
      const r = progress.result;
      const plan = r.plan ? `${r.plan.kind}, ` : "";
      return `${host}  ${r.outcome} (${plan}${seconds(r.durationMs)}): ${detailOf(r)}`;
    }
    case "probe":
      return `${host}  probing…`;
    case "plan":
      return `${host}  planning…`;
    case "apply":
      return `${host}  applying (${progress.plan ?? "?"})…`;
    case "verify":
      return `${host}  verifying…`;
  }
}

/** The summary table: fixed columns, one row per host in inventory order. */
export function renderTable(report: ConvergeReport): string {
  const rows = [
    ["HOST", "ADDRESS", "PLAN", "RESULT", "TIME", "DETAIL"],
    ...report.hosts.map((h) => [
      h.name,
      h.address,
      h.plan?.kind ?? "-",
      h.outcome,
      seconds(h.durationMs),
      detailOf(h),
    ]),
  ];
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => r[col]!.length)));
  const lines = rows.map((r) =>
    r
      .map((cell, col) => (col === r.length - 1 ? cell : cell.padEnd(widths[col]!)))
      .join("  ")
      .trimEnd(),
  );
  const causes = report.hosts.flatMap(causeLines);
  if (causes.length > 0) lines.push("", ...causes);
  lines.push("", summaryLine(report));
  return `${lines.join("\n")}\n`;
}

/** "5 hosts: 4 converged, 1 failed in 11.2s" */
export function summaryLine(report: ConvergeReport): string {
  const s = report.summary;
  const parts = [
    s.converged > 0 ? `${s.converged} converged` : "",
    s.unchanged > 0 ? `${s.unchanged} unchanged` : "",
    s.planned > 0 ? `${s.planned} planned` : "",
    s.failed > 0 ? `${s.failed} failed` : "",
  ].filter(Boolean);
  return `${s.total} host${s.total === 1 ? "" : "s"}: ${parts.join(", ")} in ${seconds(report.durationMs)}`;
}

/** A dry run's plans, reasons and adoptions, one block per host. */
export function renderPlans(report: ConvergeReport): string {
  const blocks = report.hosts.map((h) => {
    if (!h.plan)
      return [
        `${h.name} (${h.address}): failed at ${h.failedAt ?? "?"}: ${h.error ?? ""}`,
        ...causeLines(h),
      ].join("\n");
    const lines = [`${h.name} (${h.address}): ${h.plan.kind}`];
    for (const reason of h.plan.reasons) lines.push(`  - ${reason}`);
    for (const blocker of h.plan.blockers) lines.push(`  ! ${blocker}`);
    return lines.join("\n");
  });
  return `${blocks.join("\n")}\n`;
}

const DEFAULT_COLUMNS = 100;
const MIN_COLUMNS = 20;

export interface ProgressSink {
  update(name: string, progress: Progress): void;
  /** stops redrawing; the final lines stay on screen */
  close(): void;
}

/**
 * Live lines on a terminal: every host gets a line up front, and each update rewrites
 * all of them in place (cursor up, clear line), so lines never interleave.
 */
export function ttyProgress(
  names: readonly string[],
  write: (text: string) => void,
  columns = DEFAULT_COLUMNS,
): ProgressSink {
  const width = Math.max(...names.map((n) => n.length));
  // a line wider than the terminal wraps, and the cursor-up redraw would then tear
  // (a pseudo-terminal without a size reports 0 columns: then assume a common width)
  const fitWidth = columns >= MIN_COLUMNS ? columns : DEFAULT_COLUMNS;
  const fit = (line: string): string => (line.length < fitWidth ? line : `${line.slice(0, fitWidth - 2)}…`);
  const lines = new Map(names.map((n) => [n, fit(progressLine(n, width, { stage: "waiting" }))]));
  let drawn = 0;
  const draw = (): void => {
    let text = drawn > 0 ? `\x1b[${drawn}A` : "";
    for (const line of lines.values()) text += `\r\x1b[2K${line}\n`;
    drawn = lines.size;
    write(text);
  };
  draw();
  return {
    update(name, progress) {
      lines.set(name, fit(progressLine(name, width, progress)));
      draw();
    },
    close() {},
  };
}

/** Not a terminal: one line per host when it finishes, in the order they finish. */
export function lineProgress(names: readonly string[], write: (text: string) => void): ProgressSink {
  const width = Math.max(...names.map((n) => n.length));
  return {
    update(name, progress) {
      if (progress.stage === "done") write(`${progressLine(name, width, progress)}\n`);
    },
    close() {},
  };
}

export const silentProgress: ProgressSink = { update() {}, close() {} };
