/**
 * The holding agent against the real kernel, Kea and DHCP clients, in namespaces
 * (issue: the holding agent, "what it must show" 1-3 and 6). The bundled agent runs under
 * Node 20 and Node 18 (the Node Debian 12 and Ubuntu 24.04 ship).
 */
import { existsSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { dhclientCommand, prepareDhclientSandbox } from "../../src/lab/impls/dhclient-sandbox.js";
import { skipUnlessRoot } from "../helpers/root.js";
import { uniquePrefix, useTopology } from "../helpers/topology.js";
import {
  addressesOf,
  FOREVER,
  NODE18,
  NODE20,
  processesIn,
  runAgent,
  waitFor,
} from "../helpers/agent-process.js";

const skip = skipUnlessRoot(import.meta.url, "the agent in namespaces against Kea");

const LEASE_S = 4;
const dhcpAttachment = (client: string) => ({
  interface: "pn0",
  address: { source: "dhcp", dhcpClient: client },
  discovery: { attemptTimeout: "5s", maxBackoff: "2s" },
  reconcileInterval: "5s",
});

describe.skipIf(skip)("agent holds the PN address (namespaces, real Kea)", () => {
  const topo = useTopology({
    prefix: uniquePrefix("h"),
    leaseSeconds: LEASE_S,
    nodes: [
      { name: "n1", ip: "198.18.0.11" },
      { name: "n2", ip: "198.18.0.12" },
      { name: "n3", ip: "198.18.0.13" },
      { name: "n4", ip: "198.18.0.14" },
    ],
  });

  it.each([
    ["udhcpc", 0, NODE20],
    ["dhcpcd", 1, NODE18],
    ["dhclient", 2, NODE20],
  ])(
    "discovers with %s, holds with infinite lifetime, leaves no DHCP client",
    async (client, index, node) => {
      const lab = topo.current.nodes[index]!;
      const agent = runAgent(lab.ns, { attachments: [dhcpAttachment(client)] }, { node });
      try {
        await agent.waitLog(/^pn0: held /, 20_000);
        expect(agent.messages()).toContain(`pn0: discovered ${lab.cidr} via ${client}`);
        expect(await addressesOf(lab.ns)).toEqual([
          { cidr: lab.cidr, validLft: FOREVER, preferredLft: FOREVER },
        ]);
        // only the agent and its `ip monitor` child remain in the namespace (and, for a moment
        // after the hold, the agent's own RFC 5227 announcement: arping, reaped by the agent)
        const others = await processesIn(lab.ns, [agent.proc.pid]);
        expect(others.filter((p) => !p.endsWith(":ip") && !p.endsWith(":arping"))).toEqual([]);
      } finally {
        expect(await agent.stop()).toEqual({ code: 0, signal: null });
      }
      // stopping leaves the address in place
      expect((await addressesOf(lab.ns)).map((a) => a.cidr)).toEqual([lab.cidr]);
      if (node === NODE18) expect(existsSync(NODE18)).toBe(true);
    },
  );

  it("keeps the address through 3 lease times of silence while a plain dhclient -d loses it", async () => {
    const held = topo.current.nodes[3]!;
    const plain = topo.current.nodes[0]!;
    await plain.ns.exec("ip", ["addr", "flush", "dev", "pn0"]);
    const agent = runAgent(held.ns, { attachments: [dhcpAttachment("udhcpc")] });
    const leaseDir = `${topo.current.workDir}/plain-dhclient`;
    // no host dhclient.conf or hook (timesyncd, cloud-init) may run: the lab's sandbox
    const sandbox = await prepareDhclientSandbox(leaseDir, leaseDir);
    const plainCmd = dhclientCommand(sandbox, [
      "-d",
      "-lf",
      `${leaseDir}/lease`,
      "-pf",
      `${leaseDir}/pid`,
      "pn0",
    ]);
    const dhclient = plain.ns.spawn(plainCmd.file, plainCmd.args, { stdout: `${leaseDir}/dhclient.log` });
    try {
      await agent.waitLog(/^pn0: held /, 20_000);
      await waitFor(
        "plain dhclient bound",
        async () => (await plain.addresses()).includes(plain.cidr),
        20_000,
        100,
      );
      topo.current.kea!.silence();
      const silentUntil = Date.now() + 3 * LEASE_S * 1000 + 2000;
      let heldLost = 0;
      let plainLostAt: number | undefined;
      while (Date.now() < silentUntil) {
        if (!(await held.addresses()).includes(held.cidr)) heldLost++;
        if (plainLostAt === undefined && !(await plain.addresses()).includes(plain.cidr))
          plainLostAt = Date.now();
        await sleep(100);
      }
      expect(heldLost).toBe(0);
      expect(plainLostAt).toBeDefined(); // the incident, reproduced beside the fix
      expect(await plain.addresses()).not.toContain(plain.cidr);
    } finally {
      topo.current.kea!.resume();
      dhclient.kill("SIGKILL");
      await dhclient.exited;
      await agent.stop();
    }
  });

  it("puts a deleted address back in well under a second, and after the link is re-created", async () => {
    const lab = topo.current.nodes[1]!;
    const agent = runAgent(lab.ns, { attachments: [dhcpAttachment("udhcpc")] }, { node: NODE18 });
    try {
      await agent.waitLog(/^pn0: held /, 20_000);
      const restore: number[] = [];
      for (let i = 0; i < 5; i++) {
        await lab.ns.exec("ip", ["addr", "del", lab.cidr, "dev", "pn0"]);
        const t0 = performance.now();
        await waitFor("address restored", async () => (await lab.addresses()).includes(lab.cidr), 2000, 2);
        restore.push(performance.now() - t0);
        await sleep(50);
      }
      expect(Math.max(...restore)).toBeLessThan(500);

      await lab.deleteLink();
      await agent.waitLog(/^pn0: waiting for link/, 5000);
      await sleep(500);
      await lab.recreateLink();
      const t0 = performance.now();
      await waitFor(
        "address back after link re-created",
        async () => (await lab.addresses()).includes(lab.cidr),
        1000,
        5,
      );
      expect(performance.now() - t0).toBeLessThan(1000);
      const lifetimes = await addressesOf(lab.ns);
      expect(lifetimes).toEqual([{ cidr: lab.cidr, validLft: FOREVER, preferredLft: FOREVER }]);
    } finally {
      await agent.stop();
    }
  });

  it("holds one attachment while the other's interface never appears", async () => {
    const lab = topo.current.nodes[2]!;
    const agent = runAgent(lab.ns, {
      attachments: [
        {
          interface: "pn9",
          link: { kind: "existing" },
          address: { source: "static", cidr: "198.18.2.9/22" },
        },
        dhcpAttachment("udhcpc"),
      ],
    });
    try {
      await agent.waitLog(/^pn0: held /, 20_000);
      expect(agent.messages()).toContain("pn9: waiting for link (interface does not exist)");
      expect(agent.messages().some((m) => m.startsWith("pn9: held"))).toBe(false);
    } finally {
      await agent.stop();
    }
  });
});
