import { accessSync, constants, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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

/** Where DHCP exchanges run, and what the agent should say about the choice. */
export interface DhcpWorkRoot {
  readonly path: string;
  /** set when the first choice, runDir, could not be used */
  readonly note?: string;
}

/** Whether a script written into dir may be executed there (not on a `noexec` mount). */
function scriptsRunIn(dir: string): boolean {
  let probe: string | undefined;
  try {
    probe = mkdtempSync(join(dir, ".exec-check-"));
    const script = join(probe, "hook.sh");
    writeFileSync(script, "#!/bin/sh\n", { mode: 0o700 });
    // access(2) answers EACCES for X_OK on a noexec mount, as execve would
    accessSync(script, constants.X_OK);
    return true;
  } catch {
    return false;
  } finally {
    if (probe !== undefined) rmSync(probe, { recursive: true, force: true });
  }
}

/**
 * Where DHCP exchanges keep their hook, lease and pid files. The client executes the hook,
 * so the place must allow it: Debian's and Ubuntu's initramfs mount /run `noexec`, and there
 * the client got its lease, could not run the hook, and holdfast never heard of the lease.
 * The first of runDir, stateDir and a private temp directory that is writable and lets a
 * script run; when none does, runDir, and the exchange names the cause.
 */
export function dhcpWorkRoot(
  config: Pick<Config, "stateDir" | "runDir">,
  problems: readonly DirProblem[],
): DhcpWorkRoot {
  const broken = (field: DirProblem["field"]) => problems.some((p) => p.field === field);
  const why = broken("runDir")
    ? "cannot be written"
    : "does not let a DHCP client run holdfast's hook (noexec)";
  if (!broken("runDir") && scriptsRunIn(config.runDir)) return { path: config.runDir };
  const note = (path: string) => `runDir ${config.runDir} ${why}; DHCP exchanges run in ${path}`;
  if (!broken("stateDir") && scriptsRunIn(config.stateDir))
    return { path: config.stateDir, note: note(config.stateDir) };
  try {
    const temp = mkdtempSync(join(tmpdir(), "holdfast-"));
    if (scriptsRunIn(temp)) return { path: temp, note: note(temp) };
    rmSync(temp, { recursive: true, force: true });
  } catch {
    // no temp dir either
  }
  return {
    path: config.runDir,
    note: `runDir ${config.runDir} ${why}, nor do stateDir or ${tmpdir()}: DHCP discovery and confirmation will fail; held addresses stay held`,
  };
}
