import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { listNamespaces, Netns } from "../../src/harness/netns.js";
import { isRoot, warnSkipped } from "../helpers/root.js";
import { uniquePrefix } from "../helpers/topology.js";

if (!isRoot) warnSkipped("test/lab/netns.test.ts");

function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/\) Z /.test(stat);
  } catch {
    return false;
  }
}

describe.skipIf(!isRoot)("Netns", () => {
  it("GIVEN a new namespace THEN lo is up and it has its own resolv.conf seen by processes inside", async () => {
    const ns = await Netns.create(`${uniquePrefix("n")}-a`);
    try {
      const lo = await ns.exec("ip", ["-j", "link", "show", "lo"], { timeoutMs: 5000 });
      expect(JSON.parse(lo.stdout)[0].operstate).toBe("UNKNOWN"); // loopback up reads UNKNOWN
      expect(readFileSync(`/etc/netns/${ns.name}/resolv.conf`, "utf8")).toContain("holdfast lab");
      const seen = await ns.exec("cat", ["/etc/resolv.conf"], { timeoutMs: 5000 });
      expect(seen.stdout).toContain(`holdfast lab namespace ${ns.name}`);
    } finally {
      await ns.destroy();
    }
    expect(existsSync(`/etc/netns/${ns.name}`)).toBe(false);
  });

  it("GIVEN processes that fork and leave their group WHEN destroy runs THEN every one is gone and so is the namespace", async () => {
    const ns = await Netns.create(`${uniquePrefix("n")}-b`);
    // a child in the group, a grandchild that escaped into its own session, and a stopped leader
    const proc = ns.spawn("sh", ["-c", "sleep 300 & setsid sleep 301 & wait"]);
    for (let i = 0; i < 100 && (await ns.pids()).length < 3; i++) await new Promise((r) => setTimeout(r, 20));
    const pids = await ns.pids();
    expect(pids).toContain(proc.pid);
    expect(pids.length).toBe(3);
    proc.kill("SIGSTOP");
    await ns.destroy();
    // gone, or a zombie waiting for init to reap it: nothing runs any more
    for (const pid of pids) expect(running(pid)).toBe(false);
    expect(await proc.exited).toEqual({ code: null, signal: expect.stringMatching(/SIGTERM|SIGKILL/) });
    expect(await listNamespaces()).not.toContain(ns.name);
    await ns.destroy(); // idempotent
    expect(() => ns.spawn("true", [])).toThrow(/destroyed/);
  });
});

describe("Netns.spawn without `ip`", () => {
  it("GIVEN no ip on PATH WHEN spawning THEN it throws a plain error and no 'error' event goes unheard", async () => {
    // adopt makes nothing; the spawn fails before any namespace is entered
    const ns = Netns.adopt(`${uniquePrefix("n")}-none`);
    expect(() => ns.spawn("true", [], { env: { PATH: "/nonexistent" } })).toThrow(
      `could not start true in namespace ${ns.name}: \`ip netns exec\` did not start`,
    );
    // the 'error' event arrives after spawn returned; an unheard one would fail this file
    await new Promise((resolve) => setTimeout(resolve, 50));
  });
});
