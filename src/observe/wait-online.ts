import { readStatus, type StatusReading } from "./status-read.js";

// Often enough that boot goes on within a tick of the hold; reading a small file costs nothing.
const POLL_MS = 100;

export interface WaitOnlineOptions {
  readonly runDir: string;
  /** the config's attachments: each must be held */
  readonly interfaces: readonly string[];
  readonly timeoutMs: number;
  /** @default readStatus */
  readonly read?: (runDir: string) => StatusReading;
  /** @default Date.now */
  readonly now?: () => number;
}

export interface WaitOnlineResult {
  readonly held: boolean;
  readonly waitedMs: number;
  /** "pn0 172.16.0.2/22" or what is missing: "pn0 discovering", "no status file yet" */
  readonly summary: string;
}

/** What the status says now, and whether every attachment is held by a running agent. */
export function summarizeHold(
  reading: StatusReading,
  interfaces: readonly string[],
): { held: boolean; summary: string } {
  if (reading.kind === "missing") return { held: false, summary: "no status file yet" };
  if (reading.kind === "unreadable") return { held: false, summary: `status unreadable: ${reading.detail}` };
  if (!reading.liveness.running)
    return { held: false, summary: `agent not running: ${reading.liveness.reason ?? ""}` };
  const byName = new Map(reading.status.attachments.map((a) => [a.interface, a]));
  const parts = interfaces.map((name) => {
    const a = byName.get(name);
    if (a === undefined) return { name, held: false, text: `${name} unknown` };
    return {
      name,
      held: a.state === "held",
      text: a.state === "held" ? `${name} ${a.cidr ?? ""}` : `${name} ${a.state}`,
    };
  });
  return { held: parts.every((p) => p.held), summary: parts.map((p) => p.text).join(", ") };
}

/**
 * Waits until the agent holds every attachment, or the timeout passes (design §6: boot
 * ordering). Like systemd-networkd-wait-online, it only watches; it changes nothing.
 */
export async function waitOnline(options: WaitOnlineOptions): Promise<WaitOnlineResult> {
  const read = options.read ?? readStatus;
  const now = options.now ?? Date.now;
  const started = now();
  for (;;) {
    const { held, summary } = summarizeHold(read(options.runDir), options.interfaces);
    const waitedMs = now() - started;
    if (held || waitedMs >= options.timeoutMs) return { held, waitedMs, summary };
    await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_MS, options.timeoutMs - waitedMs)));
  }
}
