import { printable } from "./util/printable.js";

/**
 * One error family for the whole tool (zx `Fail`, execa): a code that maps to an exit
 * status, the subject it is about (interface, host, file + field path), and the cause.
 */
export type ErrorCode =
  /** bad command line or bad input file: exit 2 */
  | "invalid-input"
  /** the operation itself failed: exit 1 */
  | "failure"
  /** another agent holds the lock: exit 1 */
  | "locked";

/** How many detail lines an error prints; 50,000 unknown keys are not 50,001 lines. */
export const MAX_DETAILS = 20;

export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
} as const;

export interface HoldfastErrorOptions {
  readonly code: ErrorCode;
  /** what the error is about: `pn0`, `cache-a`, `/etc/holdfast/holdfast.yaml` */
  readonly subject?: string;
  /** one line per detail, e.g. one per invalid field */
  readonly details?: readonly string[];
  readonly cause?: unknown;
}

export class HoldfastError extends Error {
  readonly code: ErrorCode;
  readonly subject: string | undefined;
  readonly details: readonly string[];

  constructor(reason: string, options: HoldfastErrorOptions) {
    super(options.subject ? `${reason}: ${options.subject}` : reason, { cause: options.cause });
    this.name = "HoldfastError";
    this.code = options.code;
    this.subject = options.subject;
    this.details = options.details ?? [];
  }

  get exitCode(): number {
    return this.code === "invalid-input" ? EXIT.usage : EXIT.failure;
  }

  /**
   * The message plus detail lines, as the CLI prints it: at most MAX_DETAILS lines ("and K
   * more"), control characters escaped, so no input can flood or drive a terminal.
   */
  describe(): string {
    const shown = this.details.slice(0, MAX_DETAILS).map((d) => `  ${d}`);
    const more = this.details.length - shown.length;
    if (more > 0) shown.push(`  and ${more} more`);
    return [this.message, ...shown].map(printable).join("\n");
  }
}

export function invalidInput(
  reason: string,
  subject: string,
  details: readonly string[] = [],
): HoldfastError {
  return new HoldfastError(reason, { code: "invalid-input", subject, details });
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
