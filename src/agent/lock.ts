import { spawnSync } from "node:child_process";
import {
  closeSync,
  constants,
  fstatSync,
  ftruncateSync,
  lstatSync,
  mkdirSync,
  openSync,
  readSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { HoldfastError } from "../errors.js";
import { isPid, processStartTime } from "../util/process.js";

export interface AgentLock {
  readonly path: string;
  /**
   * Set when the lock is weaker than a file lock in runDir (runDir read-only, full, not a
   * directory): the agent logs it and holds anyway (the hold never waits on the disk).
   */
  readonly problem?: string;
  release(): void;
}

export const LOCK_FILE_NAME = "agent.lock";
// flock(1)'s exit status with -E when the lock is held by someone else (EX_TEMPFAIL).
const FLOCK_BUSY = 75;
// What is read of another agent's lock to name it: "<pid> <start time>\n" fits easily.
const LOCK_READ_MAX = 64;
// The path is re-opened when it no longer names the file we locked (someone replaced it).
const OPEN_ATTEMPTS = 5;

/**
 * flock(2) on `fd`, without a native module: flock(1) inherits the descriptor as its fd 3
 * and locks the open file description it shares with us. The lock is the description's, so
 * it stays ours after flock(1) exits, and the kernel drops it when this process dies, also
 * by SIGKILL: no stale lock can outlive its agent, whatever the file holds.
 */
function flockNonBlocking(fd: number): "locked" | "busy" | string {
  const result = spawnSync("flock", ["--nonblock", "--conflict-exit-code", String(FLOCK_BUSY), "3"], {
    stdio: ["ignore", "ignore", "pipe", fd],
    timeout: 10_000,
  });
  if (result.error)
    return `flock(1) could not run (${(result.error as NodeJS.ErrnoException).code ?? "error"})`;
  if (result.status === 0) return "locked";
  if (result.status === FLOCK_BUSY) return "busy";
  return `flock(1) failed (exit ${String(result.status)})`;
}

/** "<pid> <start time>" of the lock's holder, when the file says so; garbage reads as nothing. */
function describeHolder(fd: number): string {
  const buffer = Buffer.alloc(LOCK_READ_MAX);
  let text = "";
  try {
    text = buffer.toString("latin1", 0, readSync(fd, buffer, 0, LOCK_READ_MAX, 0));
  } catch {
    // unreadable: the holder is simply not named
  }
  const match = /^(\d{1,7}) (\d{1,20})\n/.exec(text);
  if (match && isPid(Number(match[1]))) return `pid ${match[1]}`;
  return "an agent";
}

function lockedError(runDir: string, path: string, holder: string): HoldfastError {
  return new HoldfastError("another holdfast agent is already running", {
    code: "locked",
    subject: runDir,
    details: [`${holder} holds ${path}; stop it first (systemctl stop holdfast) or use another runDir`],
  });
}

function errnoOf(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? "error";
}

/**
 * Opens and flocks `<runDir>/agent.lock`. The file is never unlinked (an unlinked file can
 * be locked by one starter while the next creates and locks a new one); after taking the
 * lock we check that the path still names the file we locked.
 */
function lockFile(runDir: string, path: string): AgentLock | { failed: string } {
  for (let attempt = 0; attempt < OPEN_ATTEMPTS; attempt++) {
    let fd: number;
    try {
      // O_NOFOLLOW and O_NONBLOCK: a symlink or a FIFO planted as the lock never blocks us
      fd = openSync(
        path,
        constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK,
        0o644,
      );
    } catch (error) {
      return { failed: `cannot open ${path} (${errnoOf(error)})` };
    }
    const stat = fstatSync(fd);
    if (!stat.isFile()) {
      closeSync(fd);
      return { failed: `${path} is not a regular file` };
    }
    const outcome = flockNonBlocking(fd);
    if (outcome === "busy") {
      const holder = describeHolder(fd);
      closeSync(fd);
      throw lockedError(runDir, path, holder);
    }
    if (outcome !== "locked") {
      closeSync(fd);
      return { failed: outcome };
    }
    let now;
    try {
      now = lstatSync(path);
    } catch {
      now = undefined;
    }
    if (now?.ino !== stat.ino || now.dev !== stat.dev) {
      closeSync(fd); // replaced under us: lock whatever the path names now
      continue;
    }
    // Whatever the file held (nothing, garbage, a dead agent's pid) is ours to overwrite.
    let problem: string | undefined;
    try {
      ftruncateSync(fd, 0);
      const content = Buffer.from(`${process.pid} ${processStartTime(process.pid) ?? "0"}\n`);
      if (writeSync(fd, content, 0, content.length, 0) !== content.length) throw new Error("short write");
    } catch (error) {
      // the kernel lock holds without its label; only the "who holds it" message loses a name
      problem = `cannot record the pid in ${path} (${errnoOf(error)})`;
    }
    return {
      path,
      problem,
      release() {
        try {
          ftruncateSync(fd, 0);
        } catch {
          // read-only or gone: the kernel lock goes with the descriptor anyway
        }
        closeSync(fd);
      },
    };
  }
  return { failed: `${path} kept being replaced` };
}

/**
 * One agent per runDir (design §3), as a kernel lock: flock on `<runDir>/agent.lock`. A dead
 * agent's lock is released by the kernel, so an empty, garbage or stale file is simply
 * taken; exactly one of any number of simultaneous starters wins. When the lock file cannot
 * be made (runDir read-only, full, not a directory), the runDir directory itself is locked;
 * when not even that works, the agent runs without a lock. Either way `problem` says why,
 * and the hold goes on: the hold never waits on the disk.
 */
export function acquireLock(runDir: string): AgentLock {
  const path = join(runDir, LOCK_FILE_NAME);
  try {
    mkdirSync(runDir, { recursive: true, mode: 0o755 });
  } catch {
    // reported below, by what cannot be opened
  }
  const file = lockFile(runDir, path);
  if (!("failed" in file)) return file;

  let fd: number | undefined;
  try {
    fd = openSync(runDir, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch (error) {
    return {
      path,
      problem: `runDir: ${file.failed}; runDir itself cannot be opened (${errnoOf(error)}): running without the one-agent lock`,
      release() {},
    };
  }
  const outcome = flockNonBlocking(fd);
  if (outcome === "busy") {
    closeSync(fd);
    throw lockedError(runDir, runDir, "an agent");
  }
  if (outcome !== "locked") {
    closeSync(fd);
    return {
      path,
      problem: `runDir: ${file.failed}; ${outcome}: running without the one-agent lock`,
      release() {},
    };
  }
  const dirFd = fd;
  return {
    path: runDir,
    problem: `runDir: ${file.failed}; locked the directory instead`,
    release: () => closeSync(dirFd),
  };
}
