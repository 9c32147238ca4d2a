import { join } from "node:path";
import type { AgentObserver, AttachmentStatus } from "../agent/events.js";
import { writeFileAtomic } from "../util/atomic-write.js";
import { VERSION } from "../version.js";
import { errorGate } from "./error-gate.js";

export const STATUS_FILE_NAME = "status.json";
export const STATUS_VERSION = 1;

/** What `<runDir>/status.json` holds (design §4.4); status-read.ts validates the same shape. */
export interface StatusDocument {
  readonly version: typeof STATUS_VERSION;
  readonly agent: {
    readonly pid: number;
    readonly version: string;
    /** ISO 8601 */
    readonly startedAt: string;
    /** ISO 8601; the heartbeat `check` uses to tell a live agent from a dead one */
    readonly updatedAt: string;
    /** the longest reconcile interval of all attachments: how often updatedAt moves at least */
    readonly reconcileIntervalMs: number;
    /** broken directories found at start, each naming its config field (absent when none) */
    readonly problems?: readonly string[];
  };
  readonly attachments: readonly AttachmentStatus[];
}

export interface StatusFileOptions {
  readonly runDir: string;
  /** @default the longest attachment reconcile interval, from the config */
  readonly reconcileIntervalMs: number;
  /** @default process.pid */
  readonly pid?: number;
  /** @default VERSION */
  readonly version?: string;
  /** @default () => new Date() */
  readonly now?: () => Date;
  /** broken directories found at start (agent/dirs.ts), shown to `holdfast status` */
  readonly problems?: readonly string[];
  /** where write failures go; the agent must keep holding even when /run is full */
  readonly onError?: (error: unknown) => void;
}

export function statusFilePath(runDir: string): string {
  return join(runDir, STATUS_FILE_NAME);
}

/**
 * Writes status.json on every state change and after every reconcile pass. The
 * reconcile write is the heartbeat: a file whose updatedAt stops moving means the agent
 * is gone or stuck, which `holdfast check` reports even when the pid still exists.
 */
export function createStatusFileObserver(options: StatusFileOptions): AgentObserver {
  const path = statusFilePath(options.runDir);
  const now = options.now ?? (() => new Date());
  const startedAt = now().toISOString();
  const agent = {
    pid: options.pid ?? process.pid,
    version: options.version ?? VERSION,
    startedAt,
    reconcileIntervalMs: options.reconcileIntervalMs,
    ...(options.problems !== undefined && options.problems.length > 0 ? { problems: options.problems } : {}),
  };

  const errors = errorGate(options.onError ?? (() => undefined));
  const write = (all: readonly AttachmentStatus[]): void => {
    const document: StatusDocument = {
      version: STATUS_VERSION,
      agent: { ...agent, updatedAt: now().toISOString() },
      attachments: all,
    };
    try {
      writeFileAtomic(path, `${JSON.stringify(document, null, 2)}\n`);
      errors.succeeded();
    } catch (error) {
      errors.failed(error);
    }
  };

  return {
    statusChanged: (_status, all) => write(all),
    reconciled: (_status, all) => write(all),
  };
}
