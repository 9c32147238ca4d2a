import type { AttachmentStatus } from "../agent/events.js";
import type { StatusReading } from "./status-read.js";
import { printable } from "../util/printable.js";

/** node-problem-detector custom plugin protocol: the exit status is the verdict. */
export const CHECK_EXIT = {
  ok: 0,
  problem: 1,
  unknown: 2,
} as const;

export type CheckExit = (typeof CHECK_EXIT)[keyof typeof CHECK_EXIT];

export interface CheckResult {
  readonly exitCode: CheckExit;
  /** one line, at most MAX_CHECK_LINE characters */
  readonly line: string;
}

// NPD's default max_output_length; the Node condition message is cut there anyway.
export const MAX_CHECK_LINE = 80;

export function fitLine(line: string): string {
  // whitespace folded first, then every other control character escaped: the line reaches
  // NPD's condition message and terminals
  const oneLine = printable(line.replace(/\s+/g, " ").trim());
  return oneLine.length <= MAX_CHECK_LINE ? oneLine : `${oneLine.slice(0, MAX_CHECK_LINE - 3)}...`;
}

const result = (exitCode: CheckExit, line: string): CheckResult => ({ exitCode, line: fitLine(line) });

function describeProblem(iface: string, status: AttachmentStatus | undefined): string {
  if (status === undefined) return `${iface} not reported by the agent`;
  return status.lastError === null
    ? `${iface} ${status.state}`
    : `${iface} ${status.state} (${status.lastError})`;
}

const ipOf = (cidr: string | null): string => (cidr === null ? "?" : (cidr.split("/")[0] ?? cidr));

/** `pn0 172.16.0.2 also at 02:…` for every configured interface with a conflict. */
function conflictsOf(interfaces: readonly string[], attachments: readonly AttachmentStatus[]): string[] {
  const byInterface = new Map(attachments.map((a) => [a.interface, a]));
  return interfaces.flatMap((iface) => {
    const status = byInterface.get(iface);
    return status?.conflict ? [`${iface} ${ipOf(status.cidr)} also at ${status.conflict.mac}`] : [];
  });
}

/**
 * `holdfast check --conflict`: only the address-conflict verdict, for NPD's own
 * `PrivateNetworkAddressConflict` condition. Without a live agent nobody probes, so that
 * is unknown here (the main check reports the agent itself).
 */
export function evaluateConflictCheck(interfaces: readonly string[], reading: StatusReading): CheckResult {
  if (reading.kind === "missing")
    return result(CHECK_EXIT.unknown, `unknown: agent not running (no ${reading.file})`);
  if (reading.kind === "unreadable") {
    return result(CHECK_EXIT.unknown, `unknown: cannot read ${reading.file}: ${reading.detail}`);
  }
  if (!reading.liveness.running) {
    return result(CHECK_EXIT.unknown, `unknown: agent not running (${reading.liveness.reason ?? "stale"})`);
  }
  const conflicts = conflictsOf(interfaces, reading.status.attachments);
  if (conflicts.length > 0) return result(CHECK_EXIT.problem, `conflict: ${conflicts.join(", ")}`);
  return result(CHECK_EXIT.ok, "ok: no address conflict");
}

/**
 * The verdict for the configured interfaces. A dead or silent agent is a problem, not
 * "unknown": that is exactly the incident this tool exists for (nobody re-asserting).
 * Unknown is kept for what check itself cannot judge: an unreadable status file.
 */
export function evaluateCheck(
  interfaces: readonly string[],
  reading: StatusReading,
  /** what the kernel has on each interface (kernel-view.ts); undefined: not looked at */
  kernel?: ReadonlyMap<string, readonly string[]>,
): CheckResult {
  if (reading.kind === "missing")
    return result(CHECK_EXIT.problem, `problem: agent not running (no ${reading.file})`);
  if (reading.kind === "unreadable") {
    return result(CHECK_EXIT.unknown, `unknown: cannot read ${reading.file}: ${reading.detail}`);
  }
  if (!reading.liveness.running) {
    return result(CHECK_EXIT.problem, `problem: agent not running (${reading.liveness.reason ?? "stale"})`);
  }
  const byInterface = new Map(reading.status.attachments.map((a) => [a.interface, a]));
  const problems = interfaces
    .map((iface) => ({ iface, status: byInterface.get(iface) }))
    .filter(({ status }) => status?.state !== "held" || status.reassignment !== null)
    .map(({ iface, status }) =>
      status?.state === "held" && status.reassignment !== null
        ? // onReassign: hold — the node holds an address the server now gives to no one or another
          `${iface} holds ${status.cidr ?? "?"}, server gives ${status.reassignment.cidr}`
        : describeProblem(iface, status),
    );
  // The status file says what the agent did; the kernel says what is there. An address the
  // agent calls held but the link does not carry is a problem, whatever the file says.
  if (kernel !== undefined) {
    for (const iface of interfaces) {
      const status = byInterface.get(iface);
      // only a claim of "held" is checked: any other state is a problem of its own already
      const cidr = status?.state === "held" ? status.cidr : undefined;
      const onLink = kernel.get(iface) ?? [];
      if (cidr !== null && cidr !== undefined && !onLink.includes(cidr))
        problems.push(`${iface} ${cidr} not on the link`);
    }
  }
  if (problems.length > 0) return result(CHECK_EXIT.problem, `problem: ${problems.join(", ")}`);
  // Held, but another host answers for the address too (RFC 5227): traffic splits between us.
  const conflicts = conflictsOf(interfaces, reading.status.attachments);
  if (conflicts.length > 0) return result(CHECK_EXIT.problem, `conflict: ${conflicts.join(", ")}`);

  const held = interfaces.map((iface) => `${iface} held ${byInterface.get(iface)?.cidr ?? "?"}`);
  const line = `ok: ${held.join(", ")}`;
  return result(
    CHECK_EXIT.ok,
    line.length <= MAX_CHECK_LINE ? line : `ok: all ${interfaces.length} attachments held`,
  );
}
