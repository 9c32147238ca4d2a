import { readFileSync } from "node:fs";

// The kernel's PID_MAX_LIMIT (4194304 on 64-bit): no pid is larger, so a bigger number read
// from a file is garbage, never a live process.
const PID_MAX_LIMIT = 4_194_304;

export const isPid = (pid: number): boolean => Number.isSafeInteger(pid) && pid > 0 && pid <= PID_MAX_LIMIT;

/** Signal 0 checks existence only; EPERM means it exists but belongs to someone else. */
export function isPidAlive(pid: number): boolean {
  if (!isPid(pid)) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== "ESRCH";
  }
}

/**
 * Field 22 of /proc/<pid>/stat (proc(5) `starttime`, clock ticks after boot). A pid and its
 * start time name one process for good: a recycled pid starts later. undefined: no such
 * process, or a zombie (exited, only waiting to be reaped).
 */
export function processStartTime(pid: number): string | undefined {
  if (!isPid(pid)) return undefined;
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // comm (field 2) may hold spaces and parentheses: fields 3… follow the last ")"
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  if (fields[0] === "Z") return undefined;
  return fields[19];
}
