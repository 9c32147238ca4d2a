import { accessSync, constants, mkdirSync, statSync } from "node:fs";
import * as fs from "node:fs";
import type { Config } from "../config/schema.js";

/** A directory from the config that the agent cannot use as it should, named by its field. */
export interface DirProblem {
  /** the config field: `stateDir`, `runDir` */
  readonly field: "stateDir" | "runDir";
  readonly path: string;
  /** `stateDir /var/lib/holdfast: read-only (EROFS); the cache is not kept, holding anyway` */
  readonly message: string;
}

const CONSEQUENCE = {
  stateDir: "the address cache is not kept; holding anyway",
  runDir: "status.json cannot be written; holding anyway",
} as const;

const errnoOf = (error: unknown): string => (error as NodeJS.ErrnoException).code ?? "error";

/** Why a directory is unusable, or undefined when it is a writable directory with room. */
function dirTrouble(path: string, mode: number): string | undefined {
  try {
    mkdirSync(path, { recursive: true, mode });
  } catch (error) {
    const code = errnoOf(error);
    if (code === "EEXIST" || code === "ENOTDIR") return `not a directory (${code})`;
    return `cannot be created (${code})`;
  }
  try {
    if (!statSync(path).isDirectory()) return "not a directory";
    accessSync(path, constants.W_OK);
  } catch (error) {
    const code = errnoOf(error);
    return code === "EROFS" ? "read-only (EROFS)" : `not writable (${code})`;
  }
  // statfsSync arrived in Node 18.15; without it, a full disk shows up as write errors later
  const statfs = (fs as { statfsSync?: (p: string) => { bavail: number } }).statfsSync;
  try {
    if (statfs && statfs(path).bavail === 0) return "full (no free blocks)";
  } catch {
    // not knowable here; writes report it
  }
  return undefined;
}

/**
 * Checks stateDir and runDir at start. A broken one never stops the agent (the hold never
 * waits on the disk): it is reported, naming the config field, in the log, status.json
 * (when runDir works) and metrics.
 */
export function checkAgentDirs(config: Pick<Config, "stateDir" | "runDir">): DirProblem[] {
  const problems: DirProblem[] = [];
  for (const [field, mode] of [
    ["stateDir", 0o700],
    ["runDir", 0o755],
  ] as const) {
    const path = config[field];
    const trouble = dirTrouble(path, mode);
    if (trouble !== undefined)
      problems.push({ field, path, message: `${field} ${path}: ${trouble}; ${CONSEQUENCE[field]}` });
  }
  return problems;
}
