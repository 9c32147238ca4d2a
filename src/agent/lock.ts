import {
  closeSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { HoldfastError } from "../errors.js";
import { isPidAlive } from "../util/process.js";

export interface AgentLock {
  readonly path: string;
  release(): void;
}

/**
 * One agent per runDir: an O_EXCL pid file. A lock whose pid is gone (the agent was
 * SIGKILLed) is stale and taken over; a live one refuses the second agent.
 */
export function acquireLock(runDir: string): AgentLock {
  mkdirSync(runDir, { recursive: true, mode: 0o755 });
  const path = join(runDir, "agent.lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx", 0o644);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return {
        path,
        release() {
          try {
            if (readFileSync(path, "utf8").trim() === String(process.pid)) unlinkSync(path);
          } catch {
            // already gone
          }
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = Number.parseInt(readFileSync(path, "utf8").trim(), 10);
    if (Number.isInteger(holder) && holder > 0 && isPidAlive(holder)) {
      throw new HoldfastError("another holdfast agent is already running", {
        code: "locked",
        subject: runDir,
        details: [
          `pid ${holder} holds ${path}; stop it first (systemctl stop holdfast) or use another runDir`,
        ],
      });
    }
    // Stale: move it aside, then make sure what was moved is the stale lock we judged. If a
    // second starter took the lock in between, we moved its fresh one: put it back (link
    // fails if yet another lock appeared meanwhile) and let the next attempt decide.
    const aside = `${path}.stale-${process.pid}`;
    try {
      renameSync(path, aside);
      const moved = Number.parseInt(readFileSync(aside, "utf8").trim(), 10);
      if (moved !== holder) linkSync(aside, path);
      unlinkSync(aside);
    } catch {
      // someone else moved it first; the next attempt decides
    }
  }
  throw new HoldfastError("could not take the agent lock", { code: "failure", subject: path });
}
