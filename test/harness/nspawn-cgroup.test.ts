import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cleanStaleNodeCgroups } from "../../src/harness/nspawn-cgroup.js";
import { scratchDir } from "../helpers/scratch.js";

const root = scratchDir("hfcg-");
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("cleanStaleNodeCgroups", () => {
  it("removes only the dead run's node cgroups", async () => {
    // empty directories stand in for a hierarchy: no cgroup.procs means no members to kill
    for (const machine of ["hfcgXa-n1", "hfcgXb-n1", "other-n1"])
      mkdirSync(join(root, "holdfast-lab", machine, "payload"), { recursive: true });
    const removed = await cleanStaleNodeCgroups("hfcgX", [root], (machine) => machine.startsWith("hfcgXa"));
    expect(removed, "the keep rule spares the live run (hfcgXa) and other prefixes").toEqual(["hfcgXb-n1"]);
    expect(existsSync(join(root, "holdfast-lab", "hfcgXb-n1"))).toBe(false);
    expect(existsSync(join(root, "holdfast-lab", "hfcgXa-n1"))).toBe(true);
    expect(existsSync(join(root, "holdfast-lab", "other-n1"))).toBe(true);
  });
});
