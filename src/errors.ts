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

  /** The message plus detail lines, as the CLI prints it. */
  describe(): string {
    return [this.message, ...this.details.map((d) => `  ${d}`)].join("\n");
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
