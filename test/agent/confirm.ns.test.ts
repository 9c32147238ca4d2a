/**
 * The confirm loop against the real kernel, real Kea and real clients, in namespaces
 * (issue 10, "must show"): keepalive in a one-address pool, silence after confirmations,
 * a reservation moved with SIGHUP followed make-before-break, onReassign hold, and NAKs.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { createUdhcpcAdapter } from "../../src/dhcp/udhcpc.js";
import { DiscoveryTimeout } from "../../src/dhcp/lease.js";
import type { LabNode } from "../../src/harness/topology.js";
import { skipUnlessRoot } from "../helpers/root.js";
import { uniquePrefix, useTopology } from "../helpers/topology.js";
import { addressesOf, BUNDLE, FOREVER, runAgent, waitFor, type AgentRun } from "../helpers/agent-process.js";

const skip = skipUnlessRoot(import.meta.url, "the confirm loop in namespaces against Kea");

const LEASE_S = 4;
const SERVER = "169.254.169.254";

const attachmentWith = (address: Record<string, unknown>) => ({
  interface: "pn0",
  address: { source: "dhcp", ...address },
  discovery: { attemptTimeout: "3s", maxBackoff: "2s" },
  reconcileInterval: "5s",
});

const cidrs = async (node: LabNode) => (await addressesOf(node.ns)).map((a) => a.cidr);

const status = (agent: AgentRun) =>
  JSON.parse(readFileSync(join(agent.runDir, "status.json"), "utf8")) as {
    attachments: Array<Record<string, unknown>>;
  };

/** A cache an hour old for `cidr`, so the agent holds it at once and confirms right away. */
function seedCache(dir: string, node: LabNode, cidr: string): void {
  mkdirSync(join(dir, "state"), { recursive: true });
  writeFileSync(
    join(dir, "state", "pn0.json"),
    JSON.stringify({
      version: 1,
      interface: "pn0",
      identity: { kind: "existing", mac: node.mac },
      cidr,
      routes: [],
      source: "dhcp",
      server: SERVER,
      leaseSeconds: LEASE_S,
      discoveredAt: new Date(Date.now() - 3_600_000).toISOString(),
    }),
  );
}

describe.skipIf(skip)("confirm: a one-address pool, no reservation (namespaces, real Kea)", () => {
  const POOL_IP = "198.18.1.5";
  const topo = useTopology({
    prefix: uniquePrefix("cp"),
    leaseSeconds: LEASE_S,
    pool: `${POOL_IP} - ${POOL_IP}`,
    reserveNodes: false,
    nodes: [
      { name: "n1", ip: "198.18.0.21" },
      { name: "n2", ip: "198.18.0.22" },
    ],
  });

  it("keeps the lease alive, refuses a second client, and holds through silence", async () => {
    const [holder, other] = [topo.current.nodes[0]!, topo.current.nodes[1]!];
    const kea = topo.current.kea!;
    const agent = runAgent(holder.ns, { attachments: [attachmentWith({ dhcpClient: "udhcpc" })] });
    try {
      await agent.waitLog(/^pn0: held /, 20_000);
      const heldAt = Date.now() / 1000;
      expect(await cidrs(holder)).toEqual([`${POOL_IP}/22`]);

      await sleep(3 * LEASE_S * 1000 + 500);
      const rows = await kea.leases(POOL_IP);
      const last = rows.at(-1)!;
      // THEN the server's lease was renewed past 3 lease times, for the holder's MAC
      expect(last.hwaddr, JSON.stringify(rows)).toBe(holder.mac);
      expect(last.expire, JSON.stringify(rows)).toBeGreaterThan(heldAt + 3 * LEASE_S);
      expect(rows.length, "one lease-file row per renewal").toBeGreaterThanOrEqual(4);
      expect(agent.messages()).toContain(`pn0: confirmed ${POOL_IP}/22 with ${SERVER} via udhcpc`);

      // THEN a second client asking the server does not get the held address
      const second = createUdhcpcAdapter({ runner: other.ns.exec.bind(other.ns) });
      await expect(
        second.discover("pn0", { timeoutMs: 3000, workDir: join(topo.current.workDir, "second") }),
      ).rejects.toBeInstanceOf(DiscoveryTimeout);

      // WHEN the server goes silent for 3 lease times THEN the address stays held
      kea.silence();
      try {
        await sleep(3 * LEASE_S * 1000);
        expect(await addressesOf(holder.ns)).toEqual([
          { cidr: `${POOL_IP}/22`, validLft: FOREVER, preferredLft: FOREVER },
        ]);
        expect(status(agent).attachments[0]).toMatchObject({
          state: "held",
          lastError: null,
          confirmedBy: SERVER,
        });
        expect(agent.messages().filter((m) => m.startsWith("pn0: confirm: no DHCP answer"))).toHaveLength(1);
      } finally {
        kea.resume();
      }
      // and once it answers again, it confirms again
      await agent.waitLog(/^pn0: confirmed .* \(after|^pn0: confirmed /, 15_000);
    } finally {
      await agent.stop();
    }
  });
});

describe.skipIf(skip)("confirm: IPAM moves a reservation (namespaces, real Kea, SIGHUP)", () => {
  const topo = useTopology({
    prefix: uniquePrefix("cr"),
    leaseSeconds: LEASE_S,
    // only reservations: a client without one is offered nothing
    pool: "",
    authoritative: true,
    nodes: [
      { name: "n1", ip: "198.18.0.31" },
      { name: "n2", ip: "198.18.0.32" },
      { name: "n3", ip: "198.18.0.33" },
    ],
  });
  const reserve = (entries: Array<[LabNode, string]>) =>
    topo.current.kea!.reload({ reservations: entries.map(([node, ip]) => ({ mac: node.mac, ip })) });

  it.each(["udhcpc", "dhclient"])("follows a moved reservation make-before-break with %s", async (client) => {
    const [n1, n2, n3] = topo.current.nodes as [LabNode, LabNode, LabNode];
    await reserve([
      [n1, "198.18.0.31"],
      [n2, "198.18.0.32"],
      [n3, "198.18.0.33"],
    ]);
    await n1.ns.exec("ip", ["addr", "flush", "dev", "pn0"]);
    const agent = runAgent(n1.ns, { attachments: [attachmentWith({ dhcpClient: client })] });
    const monitorLog = join(agent.dir, "monitor.log");
    const monitor = n1.ns.spawn("ip", ["-o", "-ts", "monitor", "address"], { stdout: monitorLog });
    try {
      await agent.waitLog(/^pn0: held 198\.18\.0\.31\/22/, 20_000);
      await agent.waitLog(/^pn0: confirmed /, 10_000);
      const movedAt = Date.now();
      await reserve([
        [n1, "198.18.0.39"],
        [n2, "198.18.0.32"],
        [n3, "198.18.0.33"],
      ]);
      const line = await agent.waitLog(/^pn0: reassigned /, 15_000);
      expect(line).toBe(`pn0: reassigned 198.18.0.31/22 -> 198.18.0.39/22 by ${SERVER}`);
      // within one confirm interval (T1 = lease / 2) plus one exchange, generously bounded
      expect(Date.now() - movedAt).toBeLessThan((LEASE_S / 2) * 1000 + 3000 + 5000);
      expect(await addressesOf(n1.ns)).toEqual([
        { cidr: "198.18.0.39/22", validLft: FOREVER, preferredLft: FOREVER },
      ]);
      const cache = JSON.parse(readFileSync(join(agent.stateDir, "pn0.json"), "utf8"));
      expect(cache).toMatchObject({ cidr: "198.18.0.39/22", confirmedAt: expect.any(String) });
      await sleep(200);
      const events = readFileSync(monitorLog, "utf8").split("\n");
      const added = events.findIndex((l) => !l.includes("Deleted") && l.includes("198.18.0.39/22"));
      const deleted = events.findIndex((l) => l.includes("Deleted") && l.includes("198.18.0.31/22"));
      expect(added, events.join("\n")).toBeGreaterThan(-1);
      expect(deleted, events.join("\n")).toBeGreaterThan(added);
      // and from its first appearance on, the new address is never absent
      const present = new Set<string>();
      for (const event of events.slice(added)) {
        const cidr = /inet (\S+)/.exec(event)?.[1];
        if (cidr === undefined) continue;
        if (event.includes("Deleted")) present.delete(cidr);
        else present.add(cidr);
        const ok = [...present].some((c) => c.startsWith("198.18.0.39/"));
        expect(ok, `no 198.18.0.39 after: ${event}\n${events.join("\n")}`).toBe(true);
      }
      // the node answers ARP for its new address on the PN (iputils arping: exit 0 on a reply)
      const arp = await topo.current.runner.exec("arping", [
        "-c",
        "1",
        "-w",
        "2",
        "-I",
        "rn0",
        "198.18.0.39",
      ]);
      expect(arp.code, `${arp.stdout}${arp.stderr}`).toBe(0);
      expect(arp.stdout.toLowerCase()).toContain(n1.mac);
    } finally {
      monitor.kill("SIGTERM");
      await monitor.exited;
      await agent.stop();
    }
  });

  it("with onReassign hold keeps the old address, reports it, and check exits 1", async () => {
    const [n1, n2, n3] = topo.current.nodes as [LabNode, LabNode, LabNode];
    await reserve([
      [n1, "198.18.0.31"],
      [n2, "198.18.0.32"],
      [n3, "198.18.0.33"],
    ]);
    const agent = runAgent(n2.ns, {
      attachments: [attachmentWith({ dhcpClient: "udhcpc", onReassign: "hold" })],
    });
    try {
      await agent.waitLog(/^pn0: confirmed 198\.18\.0\.32\/22/, 20_000);
      await reserve([
        [n1, "198.18.0.31"],
        [n2, "198.18.0.38"],
        [n3, "198.18.0.33"],
      ]);
      await agent.waitLog(/^pn0: server gives 198\.18\.0\.38\/22/, 15_000);
      await sleep(LEASE_S * 1000);
      expect(await cidrs(n2)).toEqual(["198.18.0.32/22"]);
      expect(status(agent).attachments[0]).toMatchObject({
        state: "held",
        cidr: "198.18.0.32/22",
        lastError: `reassigned to 198.18.0.38/22 by ${SERVER}; holding 198.18.0.32/22 (onReassign: hold)`,
        reassignment: { cidr: "198.18.0.38/22", server: SERVER },
      });
      // check asks the kernel too, so it runs where the agent does: in the node's namespace
      const checked = await n2.ns.exec(process.execPath, [BUNDLE, "check", "--config", agent.configPath], {
        timeoutMs: 30_000,
      });
      expect({ code: checked.code, out: checked.stdout.trim() }).toEqual({
        code: 1,
        out: "problem: pn0 holds 198.18.0.32/22, server gives 198.18.0.38/22",
      });
    } finally {
      await agent.stop();
    }
  });

  it("moves nothing on a bare NAK, and follows a NAK then an ACK (dhclient)", async () => {
    const [n1, n2, n3] = topo.current.nodes as [LabNode, LabNode, LabNode];
    // n3 has no reservation and there is no pool: its INIT-REBOOT is NAKed, nothing offered
    await reserve([
      [n1, "198.18.0.31"],
      [n2, "198.18.0.32"],
    ]);
    const dir = join(topo.current.workDir, "nak-agent");
    seedCache(dir, n3, "198.18.0.77/22");
    const agent = runAgent(n3.ns, { attachments: [attachmentWith({ dhcpClient: "dhclient" })] }, { dir });
    try {
      await agent.waitLog(/^pn0: confirm: NAK from /, 20_000);
      expect(await cidrs(n3)).toEqual(["198.18.0.77/22"]);
      await waitFor("lastError naming the NAK", () =>
        String(status(agent).attachments[0]?.lastError ?? "").startsWith("confirm: NAK from"),
      );
      expect(status(agent).attachments[0]).toMatchObject({ state: "held", cidr: "198.18.0.77/22" });

      // WHEN IPAM gives n3 an address THEN the NAK is followed by that ACK and the hold moves
      await reserve([
        [n1, "198.18.0.31"],
        [n2, "198.18.0.32"],
        [n3, "198.18.0.33"],
      ]);
      expect(await agent.waitLog(/^pn0: reassigned /, 20_000)).toMatch(
        /^pn0: reassigned 198\.18\.0\.77\/22 -> 198\.18\.0\.33\/22 by /,
      );
      expect(await cidrs(n3)).toEqual(["198.18.0.33/22"]);
    } finally {
      await agent.stop();
    }
  });
});
