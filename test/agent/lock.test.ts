import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { acquireLock } from "../../src/agent/lock.js";

describe("agent lock", () => {
  it("takes over a lock whose agent is gone (SIGKILLed), and releases only its own", () => {
    const runDir = mkdtempSync(join(tmpdir(), "hf-lock-"));
    // pid 2^22 + 1 is above the default pid_max range: nobody holds it
    writeFileSync(join(runDir, "agent.lock"), "4194305\n");
    const lock = acquireLock(runDir);
    expect(readFileSync(lock.path, "utf8")).toBe(`${process.pid}\n`);
    lock.release();
    expect(existsSync(lock.path)).toBe(false);
  });

  it("refuses while the holder lives, naming it", () => {
    const runDir = mkdtempSync(join(tmpdir(), "hf-lock-"));
    writeFileSync(join(runDir, "agent.lock"), "1\n");
    expect(() => acquireLock(runDir)).toThrow(/another holdfast agent is already running/);
    expect(readFileSync(join(runDir, "agent.lock"), "utf8")).toBe("1\n");
  });
});
