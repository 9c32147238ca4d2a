import { z } from "zod";
import { formatPath } from "../config/problems.js";
import { STATUS_VERSION, statusFilePath, type StatusDocument } from "./status-file.js";
import { isPidAlive } from "../util/process.js";
import { ReadFileError, readRegularFile } from "../util/read-file.js";

// status.json of 8 attachments is a few KB; anything near this is not ours.
export const MAX_STATUS_BYTES = 256 * 1024;

// Half a heartbeat may be lost to a slow reconcile, a whole one to scheduling; the
// extra 5 s absorbs a busy machine and clock steps of the writer's fsync.
export const STALE_INTERVALS = 2;
export const STALE_GRACE_MS = 5000;

const isoTime = z.iso.datetime({ offset: true });

const attachmentStatus = z.strictObject({
  interface: z.string().min(1),
  state: z.enum(["waiting-link", "discovering", "held", "failed"]),
  cidr: z.string().nullable(),
  origin: z.enum(["cache", "dhcp", "static"]).nullable(),
  heldSince: isoTime.nullable(),
  lastReconcileAt: isoTime.nullable(),
  reasserts: z.number().int().min(0),
  lastError: z.string().nullable(),
  // an agent from before confirming wrote none of these: read as "never confirmed"
  lastConfirmedAt: isoTime.nullable().default(null),
  confirmedBy: z.string().nullable().default(null),
  reassignment: z
    .strictObject({ cidr: z.string(), server: z.string().nullable(), since: isoTime })
    .nullable()
    .default(null),
  // absent in a file an agent before conflict detection wrote (read across an upgrade)
  conflict: z
    .strictObject({ mac: z.string().min(1), since: isoTime })
    .nullable()
    .default(null),
});

export const statusDocumentSchema = z.strictObject({
  version: z.literal(STATUS_VERSION),
  agent: z.strictObject({
    pid: z.number().int().positive(),
    version: z.string(),
    startedAt: isoTime,
    updatedAt: isoTime,
    reconcileIntervalMs: z.number().int().positive(),
    problems: z.array(z.string()).max(16).optional(),
  }),
  attachments: z.array(attachmentStatus),
});

/** Whether the agent behind a status file is alive, and if not, why we think so. */
export interface Liveness {
  readonly running: boolean;
  /** `pid 1234 is gone`, `status not updated for 94 s`; null while running */
  readonly reason: string | null;
  /** how old updatedAt is, in milliseconds */
  readonly ageMs: number;
}

export type StatusReading =
  | { readonly kind: "missing"; readonly file: string }
  | {
      readonly kind: "unreadable";
      readonly file: string;
      readonly detail: string;
      /** the read or parse error, for whoever turns this into an error */
      readonly cause?: unknown;
    }
  | {
      readonly kind: "ok";
      readonly file: string;
      readonly status: StatusDocument;
      readonly liveness: Liveness;
    };

export interface ReadStatusOptions {
  /** @default () => Date.now() */
  readonly now?: () => number;
  /** @default isPidAlive */
  readonly isAlive?: (pid: number) => boolean;
}

export function staleAfterMs(reconcileIntervalMs: number): number {
  return STALE_INTERVALS * reconcileIntervalMs + STALE_GRACE_MS;
}

export function assessLiveness(status: StatusDocument, options: ReadStatusOptions = {}): Liveness {
  const now = options.now ?? Date.now;
  const isAlive = options.isAlive ?? isPidAlive;
  const ageMs = Math.max(0, now() - Date.parse(status.agent.updatedAt));
  if (!isAlive(status.agent.pid)) {
    return { running: false, reason: `pid ${status.agent.pid} is gone`, ageMs };
  }
  if (ageMs > staleAfterMs(status.agent.reconcileIntervalMs)) {
    return { running: false, reason: `status not updated for ${Math.round(ageMs / 1000)} s`, ageMs };
  }
  return { running: true, reason: null, ageMs };
}

/** Parses status.json text; throws an Error whose message names the first bad fields. */
export function parseStatusDocument(text: string): StatusDocument {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    // JSON.parse's message quotes the text; a status.json pointed at another file must
    // never show a byte of it (the cause keeps it for a debugger, never for output)
    throw new Error("not JSON", { cause: error });
  }
  const result = statusDocumentSchema.safeParse(document);
  if (!result.success) {
    // paths only: zod's messages may quote the input
    const paths = result.error.issues.map((issue) => formatPath(issue.path).slice(0, 40));
    throw new Error(`not a holdfast status file (bad ${paths.slice(0, 3).join(", ")})`);
  }
  return result.data;
}

/** Reads `<runDir>/status.json`; never throws, so `check` can map every outcome to an exit code. */
export function readStatus(runDir: string, options: ReadStatusOptions = {}): StatusReading {
  const file = statusFilePath(runDir);
  let text: string;
  try {
    // only a regular file of root's (or ours), never through a symlink, never a FIFO that hangs
    text = readRegularFile(file, { maxBytes: MAX_STATUS_BYTES, noFollow: true, ownedByUs: true });
  } catch (error) {
    if (error instanceof ReadFileError && error.kind === "missing") return { kind: "missing", file };
    return {
      kind: "unreadable",
      file,
      detail: error instanceof ReadFileError ? error.detail : "error",
      cause: error,
    };
  }
  let status: StatusDocument;
  try {
    status = parseStatusDocument(text);
  } catch (error) {
    return { kind: "unreadable", file, detail: (error as Error).message, cause: error };
  }
  return { kind: "ok", file, status, liveness: assessLiveness(status, options) };
}
