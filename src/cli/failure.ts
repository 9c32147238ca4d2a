import { issueLines } from "../config/problems.js";
import { HoldfastError, errorMessage } from "../errors.js";

/** A zod error (or anything shaped like one): its `issues` list, which its message dumps as JSON. */
function issuesOf(error: unknown): Parameters<typeof issueLines>[0] | undefined {
  const issues = (error as { issues?: unknown } | null)?.issues;
  return Array.isArray(issues) ? { issues } : undefined;
}

/**
 * What the CLI prints for an error that ended a command: one readable line per problem
 * (`field.path: message`), never a raw issue dump, whichever layer the error came from.
 */
export function describeFailure(error: unknown): string {
  if (error instanceof HoldfastError) return `holdfast: ${error.describe()}`;
  const issues = issuesOf(error);
  if (issues !== undefined) {
    return ["holdfast: invalid data", ...issueLines(issues).map((line) => `  ${line}`)].join("\n");
  }
  return `holdfast: ${errorMessage(error)}`;
}
