/**
 * Crash, restart and late IPAM, against real Kea in namespaces (issue: the holding agent,
 * "what it must show" 4, 5 and 7).
 */
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { skipUnlessRoot } from "../helpers/root.js";
import { uniquePrefix, withTopology } from "../helpers/topology.js";
import { runAgent, waitFor, NODE18 } from "../helpers/agent-process.js";

const skip = skipUnlessRoot(import.meta.url, "agent restart, cache and IPAM lag in namespaces");

const attachment = {
  interface: "pn0",
  address: { source: "dhcp", dhcpClient: "auto" },
  discovery: { attemptTimeout: "3s", maxBackoff: "1s" },
  reconcileInterval: "5s",
};

describe.skipIf(skip)("agent restart and discovery (namespaces, real Kea)", () => {
  it("after SIGKILL and a flush, restores the address from the cache with Kea silent", async () => {
    await withTopology(
      { prefix: uniquePrefix("r"), leaseSeconds: 4, nodes: [{ name: "n1", ip: "198.18.0.21" }] },
      async (topo) => {
        const lab = topo.nodes[0]!;
        const first = runAgent(lab.ns, { attachments: [attachment] });
        await first.waitLog(/^pn0: held /, 20_000);
        expect(await first.stop("SIGKILL")).toMatchObject({ signal: "SIGKILL" });
        topo.kea!.silence();
        await lab.ns.exec("ip", ["addr", "flush", "dev", "pn0"]);
        expect(await lab.addresses()).toEqual([]);

        const second = runAgent(lab.ns, { attachments: [attachment] }, { dir: first.dir, node: NODE18 });
        try {
          await second.waitLog(/^pn0: held /, 5000);
          expect(second.messages()).toContain(`pn0: held ${lab.cidr} (from cache)`);
          expect(second.messages().some((m) => /discover/.test(m))).toBe(false);
          expect(await lab.addresses()).toEqual([lab.cidr]);
        } finally {
          topo.kea!.resume();
          expect((await second.stop()).code).toBe(0);
        }
      },
    );
  });

  it("keeps discovering while IPAM lags and holds within 2 s of Kea answering", async () => {
    await withTopology(
      {
        prefix: uniquePrefix("i"),
        leaseSeconds: 4,
        startKea: false,
        nodes: [{ name: "n1", ip: "198.18.0.22" }],
      },
      async (topo) => {
        const lab = topo.nodes[0]!;
        const agent = runAgent(lab.ns, { attachments: [attachment] });
        try {
          await agent.waitLog(/^pn0: discovering$/, 10_000);
          await sleep(20_000);
          expect(await lab.addresses()).toEqual([]);
          const kea = await topo.startKea();
          await kea.waitReady();
          const answering = performance.now();
          await waitFor(
            "address held after Kea started",
            async () => (await lab.addresses()).includes(lab.cidr),
            5000,
            20,
          );
          const elapsed = performance.now() - answering;
          expect(elapsed).toBeLessThan(2000);
          expect(await agent.waitLog(/^pn0: held /, 2000)).toBe(`pn0: held ${lab.cidr} (from dhcp)`);
        } finally {
          await agent.stop();
        }
      },
    );
  });

  it("sets aside a corrupt or foreign cache, logs it, and rediscovers", async () => {
    await withTopology(
      { prefix: uniquePrefix("c"), leaseSeconds: 4, nodes: [{ name: "n1", ip: "198.18.0.23" }] },
      async (topo) => {
        const lab = topo.nodes[0]!;
        const first = runAgent(lab.ns, { attachments: [attachment] });
        await first.waitLog(/^pn0: held /, 20_000);
        await first.stop();
        const cache = join(first.stateDir, "pn0.json");

        writeFileSync(cache, "{ truncated");
        const second = runAgent(lab.ns, { attachments: [attachment] }, { dir: first.dir });
        await second.waitLog(/^pn0: held /, 20_000);
        await second.stop();
        expect(second.messages().find((m) => m.startsWith("pn0: cache set aside"))).toMatch(
          /not valid JSON; moved to .*pn0\.json\.corrupt-/,
        );
        expect(second.messages()).toContain(`pn0: held ${lab.cidr} (from dhcp)`);

        writeFileSync(
          cache,
          JSON.stringify({
            version: 1,
            interface: "pn0",
            identity: { kind: "existing", mac: "02:00:00:00:00:99" },
            cidr: "198.18.3.3/22",
            routes: [],
            source: "dhcp",
            server: null,
            leaseSeconds: 10,
            discoveredAt: new Date().toISOString(),
          }),
        );
        const third = runAgent(lab.ns, { attachments: [attachment] }, { dir: first.dir });
        await third.waitLog(/^pn0: held /, 20_000);
        await third.stop();
        expect(third.messages().find((m) => m.startsWith("pn0: cache set aside"))).toMatch(/other identity/);
        expect(await lab.addresses()).not.toContain("198.18.3.3/22");
        expect(readdirSync(first.stateDir).filter((f) => f.includes(".corrupt-"))).toHaveLength(2);
      },
    );
  });
});
