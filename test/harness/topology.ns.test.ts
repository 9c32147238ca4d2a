import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createTopology } from "../../src/harness/topology.js";
import { listNamespaces, type Netns } from "../../src/harness/netns.js";
import { skipUnlessRoot } from "../helpers/root.js";
import { uniquePrefix } from "../helpers/topology.js";

const skip = skipUnlessRoot(import.meta.url, "namespaces, Kea");

/** gone, or a zombie waiting for init to reap it */
function alive(pid: number): boolean {
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/** One udhcpc exchange that configures nothing (script /bin/true); resolves with its stderr. */
async function probeDhcp(ns: Netns, timeoutSeconds: number): Promise<string> {
  const args = [
    "udhcpc",
    "-i",
    "pn0",
    "-f",
    "-q",
    "-n",
    "-t",
    String(timeoutSeconds),
    "-T",
    "1",
    "-s",
    "/bin/true",
  ];
  const result = await ns.exec("busybox", args, { timeoutMs: (timeoutSeconds + 3) * 1000 });
  return result.stderr;
}

describe.skipIf(skip)("lab topology", () => {
  it("serves each node its reservation, and destroy leaves nothing", async () => {
    const prefix = uniquePrefix("t");
    const topo = await createTopology({
      prefix,
      nodes: [
        { name: "n1", ip: "198.18.0.10" },
        { name: "n2", ip: "198.18.0.11" },
      ],
    });
    let keaPid = 0;
    try {
      expect(topo.kea).toBeDefined();
      keaPid = topo.kea!.pid;
      expect(await topo.dhcp.pids()).toEqual([keaPid]);
      expect(topo.nodes.map((n) => n.mac)).toEqual(["02:68:66:00:00:00", "02:68:66:00:00:01"]);
      expect(topo.nodes[1]!.cidr).toBe("198.18.0.11/22");

      expect(await probeDhcp(topo.nodes[0]!.ns, 3)).toContain(
        "lease of 198.18.0.10 obtained from 169.254.169.254, lease time 10",
      );
      expect(await probeDhcp(topo.nodes[1]!.ns, 3)).toContain(
        "lease of 198.18.0.11 obtained from 169.254.169.254",
      );
      // the probe's script was /bin/true: nothing configured
      expect(await topo.nodes[0]!.addresses()).toEqual([]);

      const ping = await topo.runner.exec("busybox", ["ping", "-c", "1", "-W", "2", "198.18.0.1"], {
        timeoutMs: 5000,
      });
      expect(ping.code).toBe(0);

      const names = await listNamespaces();
      for (const role of ["fab", "dhcp", "run", "n1", "n2"]) expect(names).toContain(`${prefix}-${role}`);
    } finally {
      await topo.destroy();
    }
    expect(
      (await listNamespaces()).filter((n) => n.startsWith(prefix)),
      "namespaces after destroy",
    ).toEqual([]);
    expect(alive(keaPid), "Kea after destroy").toBe(false);
    await topo.destroy(); // idempotent
  });

  it("GIVEN a silenced Kea WHEN a node asks THEN nobody answers, and after resume it answers again", async () => {
    const topo = await createTopology({
      prefix: uniquePrefix("s"),
      nodes: [{ name: "n1", ip: "198.18.0.20" }],
    });
    try {
      topo.kea!.silence();
      expect(await probeDhcp(topo.nodes[0]!.ns, 2)).not.toContain("lease of");
      topo.kea!.resume();
      expect(await probeDhcp(topo.nodes[0]!.ns, 3)).toContain("lease of 198.18.0.20");
    } finally {
      // destroy must also end a Kea that is still stopped
      topo.kea!.silence();
      await topo.destroy();
    }
  });

  it("re-creates a deleted pn0 with the same MAC and no address", async () => {
    const topo = await createTopology({
      prefix: uniquePrefix("l"),
      nodes: [{ name: "n1", ip: "198.18.0.30" }],
      startKea: false,
    });
    try {
      const node = topo.nodes[0]!;
      await node.ns.exec("ip", ["addr", "add", node.cidr, "dev", "pn0"], { timeoutMs: 5000 });
      expect(await node.addresses()).toEqual([node.cidr]);
      await node.deleteLink();
      expect((await node.ns.exec("ip", ["link", "show", "pn0"])).code).not.toBe(0);
      expect(await node.addresses()).toEqual([]);
      await node.recreateLink();
      const link = await node.ns.exec("ip", ["-j", "link", "show", "pn0"]);
      expect(JSON.parse(link.stdout)[0].address, "the same MAC").toBe(node.mac);
      expect(await node.addresses(), "no address after re-creation").toEqual([]);

      // Kea started late (IPAM lag) still serves the reservation
      expect(topo.kea).toBeUndefined();
      await topo.startKea();
      expect(await probeDhcp(node.ns, 3)).toContain("lease of 198.18.0.30");
    } finally {
      await topo.destroy();
    }
  });
});
