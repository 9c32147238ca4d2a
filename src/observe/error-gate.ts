import { errorMessage } from "../errors.js";

/**
 * Passes a write failure on once, not once per attempt: status.json is rewritten on every
 * reconcile pass, and a read-only /run would otherwise flood the log with the same line.
 * After a success, the next failure is news again.
 */
export function errorGate(onError: (error: unknown) => void): {
  failed(error: unknown): void;
  succeeded(): void;
} {
  let last: string | undefined;
  return {
    failed(error) {
      const message = errorMessage(error);
      if (message === last) return;
      last = message;
      onError(error);
    },
    succeeded() {
      last = undefined;
    },
  };
}
