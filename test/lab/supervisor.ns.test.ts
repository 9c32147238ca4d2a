import { rmSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import { Netns } from "../../src/harness/netns.js";
import { Supervisor } from "../../src/lab/impls/supervisor.js";
import { skipUnlessRoot } from "../helpers/root.js";
import { uniquePrefix } from "../helpers/topology.js";
import { scratchDir } from "../helpers/scratch.js";

const skip = skipUnlessRoot(import.meta.url, "processes in namespaces");

const dir = scratchDir("hfsup-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(skip)("Supervisor", () => {
  it("GIVEN a supervised process WHEN it exits THEN it is started again after RestartSec", async () => {
    const ns = await Netns.create(`${uniquePrefix("sup")}-a`);
    const supervisor = new Supervisor(ns, join(dir, "a.log"));
    try {
      supervisor.start({ file: "sleep", args: ["0.05"] });
      for (let i = 0; i < 100 && supervisor.restarts < 2; i++) await sleep(50);
      expect(supervisor.restarts).toBeGreaterThanOrEqual(2);
    } finally {
      await supervisor.stop();
      await ns.destroy();
    }
    expect(supervisor.error).toBeUndefined();
  });

  it("ends with the error recorded when its namespace is destroyed under it", async () => {
    const ns = await Netns.create(`${uniquePrefix("sup")}-b`);
    const supervisor = new Supervisor(ns, join(dir, "b.log"));
    supervisor.start({ file: "sleep", args: ["300"] });
    // nobody calls stop() first: destroy ends the process, the restart finds no namespace
    await ns.destroy();
    for (let i = 0; i < 100 && supervisor.error === undefined; i++) await sleep(20);
    expect(String(supervisor.error), "recorded, not an unhandled rejection").toContain(
      `namespace already destroyed: ${ns.name}`,
    );
    await supervisor.stop(); // resolves: the loop has ended
  });
});
