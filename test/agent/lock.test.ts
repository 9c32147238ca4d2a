import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { acquireLock } from "../../src/agent/lock.js";
import { processStartTime } from "../../src/util/process.js";
import { scratchDir } from "../helpers/scratch.js";

describe("agent lock", () => {
  it.each([
    ["", "empty"],
    ["abc\n", "garbage"],
    ["99999999999999999999\n", "a pid beyond pid_max"],
    ["4194305 1\n", "a dead agent's"],
  ])("takes over a lock file that is %j (%s), writes its pid and start time, and releases", (content) => {
    const runDir = scratchDir("hf-lock-");
    writeFileSync(join(runDir, "agent.lock"), content);
    const lock = acquireLock(runDir);
    expect(lock.problem).toBeUndefined();
    expect(readFileSync(lock.path, "utf8")).toBe(`${process.pid} ${processStartTime(process.pid)}\n`);
    lock.release();
    // released: the next agent takes it at once
    acquireLock(runDir).release();
  });

  it("refuses while another process holds the lock, whatever the file says", async () => {
    const runDir = scratchDir("hf-lock-");
    const path = join(runDir, "agent.lock");
    writeFileSync(path, "1\n");
    const holder = spawn("flock", [path, "sleep", "30"], { stdio: "ignore" });
    try {
      await sleep(300);
      expect(() => acquireLock(runDir)).toThrow(/another holdfast agent is already running/);
      expect(readFileSync(path, "utf8")).toBe("1\n");
    } finally {
      holder.kill("SIGKILL");
    }
  });

  it("locks the runDir itself when the lock file cannot be made, and says so", () => {
    const runDir = scratchDir("hf-lock-");
    // a directory where the lock file should be: it cannot be opened as a file
    mkdirSync(join(runDir, "agent.lock"));
    const lock = acquireLock(runDir);
    expect(lock.problem).toMatch(/^runDir: .*agent\.lock.*locked the directory instead/);
    expect(() => acquireLock(runDir)).toThrow(/another holdfast agent is already running/);
    lock.release();
  });
});
