import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { liveRuns, processStartTime, registerRun } from "../../src/harness/run-registry.js";
import { scratchDir } from "../helpers/scratch.js";

// cleanLeftovers against real namespaces: run-registry.ns.test.ts
const dir = scratchDir("hfown-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A pid that has certainly exited (and was reaped) by the time this returns. */
function deadPid(): number {
  const child = spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" });
  return Number(child.stdout.trim());
}

describe("lab owner files", () => {
  it("registers a run with pid and start time, live until undone", () => {
    const ownerDir = join(dir, "a");
    const undo = registerRun("hfown-live", ownerDir);
    const started = processStartTime(process.pid);
    expect(started).toMatch(/^\d+$/);
    expect(readFileSync(join(ownerDir, "hfown-live"), "utf8")).toBe(`${process.pid} ${started}\n`);
    // a vitest worker's command line says nothing about "lab": only pid + start time decide
    expect(liveRuns(ownerDir), "live while registered").toEqual(["hfown-live"]);
    undo();
    expect(liveRuns(ownerDir), "not live once undone").toEqual([]);
  });

  it("drops owner files of dead runs, recycled pids and the old format", () => {
    const ownerDir = join(dir, "b");
    registerRun("hfown-live", ownerDir);
    const started = Number(processStartTime(process.pid));
    writeFileSync(join(ownerDir, "hfown-dead"), `${deadPid()} 12345\n`);
    // our own pid, but the process that wrote this started earlier: the pid was reused since
    writeFileSync(join(ownerDir, "hfown-reused"), `${process.pid} ${started - 1}\n`);
    writeFileSync(join(ownerDir, "hfown-pidonly"), `${process.pid}\n`);
    expect(liveRuns(ownerDir)).toEqual(["hfown-live"]);
    for (const name of ["hfown-dead", "hfown-reused", "hfown-pidonly"])
      expect(existsSync(join(ownerDir, name)), `${name} is not live: its file is removed`).toBe(false);
  });

  it("GIVEN an exited process THEN it has no start time", () => {
    expect(processStartTime(deadPid())).toBeUndefined();
  });
});
