import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { listNamespaces, Netns } from "../../src/harness/netns.js";
import { cleanLeftovers, registerRun } from "../../src/harness/run-registry.js";
import { skipUnlessRoot } from "../helpers/root.js";
import { uniquePrefix } from "../helpers/topology.js";
import { scratchDir } from "../helpers/scratch.js";

const skip = skipUnlessRoot(import.meta.url, "namespaces of other runs to clean");

const dir = scratchDir("hfown-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A pid that has certainly exited (and was reaped) by the time this returns. */
function deadPid(): number {
  const child = spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" });
  return Number(child.stdout.trim());
}

describe.skipIf(skip)("holdfast lab --clean (cleanLeftovers)", () => {
  it("cleans only a dead run's namespaces, processes and stray /etc/netns dirs", async () => {
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
