import { appendFileSync } from "node:fs";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import { SKIP_ALLOWLIST, type AllowedSkip } from "../skip-allowlist.js";

/*
 * The one rule for a test that cannot run here (not root, no booted-node rootfs, a tool or a
 * kernel feature missing). Outside CI it skips with a line nobody can miss. Under CI=true a
 * skip is a failure: those files are the only proof of what they test, so a green run must
 * mean they ran. The exceptions live in one file, test/skip-allowlist.ts, each with what
 * covers it instead. Every decision is appended to $HOLDFAST_SKIP_LOG, which .ci/run counts.
 */

const REPO = fileURLToPath(new URL("../../", import.meta.url));

/** What happens to a test that cannot run here. */
export type SkipOutcome = "skipped" | "allowlisted" | "failed";

export interface SkipDecision {
  readonly outcome: SkipOutcome;
  /** the allowlist entry that let it skip under CI */
  readonly allowed?: AllowedSkip;
}

/** True when the environment says this is a CI run (`CI=true`, as CI services and .ci/run set it). */
export function inCi(env: NodeJS.ProcessEnv = process.env): boolean {
  return /^(true|1)$/i.test(env.CI ?? "");
}

/** Pure: what a skip of `file` for `reason` becomes, in or out of CI. */
export function decideSkip(
  file: string,
  reason: string,
  ci: boolean,
  allowlist: readonly AllowedSkip[] = SKIP_ALLOWLIST,
): SkipDecision {
  if (!ci) return { outcome: "skipped" };
  const allowed = allowlist.find((entry) => entry.file === file && entry.reason.test(reason));
  return allowed ? { outcome: "allowlisted", allowed } : { outcome: "failed" };
}

/** `file:///…/test/x/y.ns.test.ts` or a repository path → `test/x/y.ns.test.ts`. */
export function testPath(file: string): string {
  return file.startsWith("file:") ? relative(REPO, fileURLToPath(file)) : file;
}

/** One line for $HOLDFAST_SKIP_LOG: outcome, file, reason (and cover), tab-separated, one line. */
export function skipLogLine(file: string, reason: string, decision: SkipDecision): string {
  const flat = (text: string): string => text.replace(/\s*\n\s*/g, " / ").replace(/\t/g, " ");
  const cover = decision.allowed ? [`covered by: ${flat(decision.allowed.coveredBy)}`] : [];
  return [decision.outcome, file, flat(reason), ...cover].join("\t") + "\n";
}

/**
 * Whether the tests of `file` (pass `import.meta.url`) must skip: false when `reason` is
 * undefined (they can run). Otherwise prints the loud SKIPPED line and returns true, or,
 * under CI=true, throws with the reason so the file fails, unless the allowlist names it.
 */
export function skipWhen(file: string, reason: string | undefined): boolean {
  if (reason === undefined) return false;
  const path = testPath(file);
  const decision = decideSkip(path, reason, inCi());
  const log = process.env.HOLDFAST_SKIP_LOG;
  if (log) appendFileSync(log, skipLogLine(path, reason, decision));
  if (decision.outcome === "failed") {
    throw new Error(
      `CI=true and ${path} cannot run: ${reason}\n` +
        "  a skip in CI is a failure; make it runnable here, or add it with what covers it instead to test/skip-allowlist.ts",
    );
  }
  const allowed = decision.allowed ? ` (allowlisted in CI: ${decision.allowed.coveredBy})` : "";
  console.warn(`\n*** SKIPPED: ${path}: ${reason}${allowed} ***\n`);
  return true;
}
