import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { listNamespaces, Netns } from "../../src/harness/netns.js";
import { cleanLeftovers, liveRuns, processStartTime, registerRun } from "../../src/harness/run-registry.js";
import { isRoot, warnSkipped } from "../helpers/root.js";
import { uniquePrefix } from "../helpers/topology.js";

if (!isRoot) warnSkipped("test/lab/owner.test.ts: cleanLeftovers (namespaces)");

const dir = mkdtempSync(join(tmpdir(), "hfown-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A pid that has certainly exited (and was reaped) by the time this returns. */
function deadPid(): number {
  const child = spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" });
  return Number(child.stdout.trim());
}

describe("lab owner files", () => {
  it("GIVEN this process WHEN it registers a run THEN the file holds its pid and start time and the run counts as live until undone", () => {
    const ownerDir = join(dir, "a");
    const undo = registerRun("hfown-live", ownerDir);
    const started = processStartTime(process.pid);
    expect(started).toMatch(/^\d+$/);
    expect(readFileSync(join(ownerDir, "hfown-live"), "utf8")).toBe(`${process.pid} ${started}\n`);
    // a vitest worker's command line says nothing about "lab": only pid + start time decide
    expect(liveRuns(ownerDir)).toEqual(["hfown-live"]);
    undo();
    expect(liveRuns(ownerDir)).toEqual([]);
  });

  it("GIVEN owner files of a dead run, of a recycled pid and in an old format THEN none counts as live and their files are removed", () => {
    const ownerDir = join(dir, "b");
    registerRun("hfown-live", ownerDir);
    const started = Number(processStartTime(process.pid));
    writeFileSync(join(ownerDir, "hfown-dead"), `${deadPid()} 12345\n`);
    // our own pid, but the process that wrote this started earlier: the pid was reused since
    writeFileSync(join(ownerDir, "hfown-reused"), `${process.pid} ${started - 1}\n`);
    writeFileSync(join(ownerDir, "hfown-pidonly"), `${process.pid}\n`);
    expect(liveRuns(ownerDir)).toEqual(["hfown-live"]);
    for (const name of ["hfown-dead", "hfown-reused", "hfown-pidonly"])
      expect(existsSync(join(ownerDir, name))).toBe(false);
  });

  it("GIVEN an exited process THEN it has no start time", () => {
    expect(processStartTime(deadPid())).toBeUndefined();
  });
});

describe.skipIf(!isRoot)("holdfast lab --clean (cleanLeftovers)", () => {
  it("GIVEN namespaces of a live run, of a dead run and a stray /etc/netns dir WHEN cleaning THEN only the dead run's go, processes included", async () => {
    const ownerDir = join(dir, "clean");
    const lab = uniquePrefix("cl");
    const undo = registerRun(`${lab}a`, ownerDir);
    writeFileSync(join(ownerDir, `${lab}b`), `${deadPid()} 12345\n`);
    const live = await Netns.create(`${lab}a-n1`);
    const dead = await Netns.create(`${lab}b-n1`);
    // a namespace that vanished with a reboot leaves only its resolv.conf dir
    mkdirSync(`/etc/netns/${lab}b-n2`, { recursive: true });
    try {
      const orphan = dead.spawn("sleep", ["300"]); // as a SIGKILLed run leaves it
      const result = await cleanLeftovers(lab, ownerDir);
      expect(result).toEqual({ removed: [`${lab}b-n1`, `${lab}b-n2`], spared: [`${lab}a-n1`], nodes: [] });
      expect(await orphan.exited).toEqual({ code: null, signal: expect.stringMatching(/SIGTERM|SIGKILL/) });
      const names = await listNamespaces();
      expect(names).toContain(live.name);
      expect(names).not.toContain(dead.name);
      expect(existsSync(`/etc/netns/${lab}b-n2`)).toBe(false);
      expect(existsSync(join(ownerDir, `${lab}b`))).toBe(false);
    } finally {
      undo();
      await live.destroy();
      await dead.destroy();
      rmSync(`/etc/netns/${lab}b-n2`, { recursive: true, force: true });
    }
  });
});
