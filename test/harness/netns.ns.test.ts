import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { listNamespaces, Netns } from "../../src/harness/netns.js";
import { skipUnlessRoot } from "../helpers/root.js";
import { uniquePrefix } from "../helpers/topology.js";

const skip = skipUnlessRoot(import.meta.url, "network namespaces");

function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/\) Z /.test(stat);
  } catch {
    return false;
  }
}

describe.skipIf(skip)("Netns", () => {
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

  it("destroy ends every process, even those that left the group, and the namespace", async () => {
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
    for (const pid of pids) expect(running(pid), `pid ${pid} still runs after destroy`).toBe(false);
    expect(await proc.exited).toEqual({ code: null, signal: expect.stringMatching(/SIGTERM|SIGKILL/) });
    expect(await listNamespaces(), "the namespace is gone").not.toContain(ns.name);
    await ns.destroy(); // idempotent
    expect(() => ns.spawn("true", [])).toThrow(/destroyed/);
  });
});
