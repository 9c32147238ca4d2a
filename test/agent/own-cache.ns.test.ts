/**
 * Issue 13 rows 4, 6 and 7 on the cache: a garbage cache in a read-only stateDir, a cache
 * holding 0.0.0.0/0 and a FIFO as cache. The real agent, real Kea, in namespaces; the
 * read-only stateDir is a bind mount inside the agent's private mount namespace.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readOnly, runAgentPrivate } from "../helpers/private-mounts.js";
import { skipUnlessRoot } from "../helpers/root.js";
import { uniquePrefix, useTopology } from "../helpers/topology.js";
import { scratchDir } from "../helpers/scratch.js";

const skip = skipUnlessRoot(import.meta.url, "bad caches against Kea");

const attachment = {
  interface: "pn0",
  address: { source: "dhcp", dhcpClient: "udhcpc" },
  discovery: { attemptTimeout: "5s", maxBackoff: "2s" },
  reconcileInterval: "1s",
};

const unholdableCache = JSON.stringify({
  version: 1,
  interface: "pn0",
  identity: { kind: "existing", mac: "02:00:00:00:00:01" },
  cidr: "0.0.0.0/0",
  routes: [],
  source: "dhcp",
  server: null,
  leaseSeconds: null,
  discoveredAt: "2026-01-01T00:00:00.000Z",
});

describe.skipIf(skip)("bad caches never cost the hold (namespaces, real Kea)", () => {
  const topo = useTopology({
    prefix: uniquePrefix("oc"),
    leaseSeconds: 30,
    nodes: [
      { name: "n1", ip: "198.18.0.61" },
      { name: "n2", ip: "198.18.0.62" },
      { name: "n3", ip: "198.18.0.63" },
    ],
  });

  it.each([
    [
      "garbage in a read-only stateDir",
      0,
      "garbage",
      true,
      /cannot move it aside \(EROFS\), ignoring it in memory/,
    ],
    [
      "holding 0.0.0.0/0",
      1,
      unholdableCache,
      false,
      /cache set aside: invalid \(cidr: expected a unicast host address/,
    ],
    ["a FIFO", 2, "FIFO", false, /cache set aside: unreadable \(a FIFO, not a regular file\)/],
  ] as const)(
    "a cache %s is set aside, and the agent discovers and holds",
    async (_what, index, cache, ro, logged) => {
      const lab = topo.current.nodes[index]!;
      const dir = scratchDir("hf-oc-");
      const stateDir = join(dir, "state");
      mkdirSync(stateDir);
      if (cache === "FIFO") execFileSync("mkfifo", [join(stateDir, "pn0.json")]);
      else writeFileSync(join(stateDir, "pn0.json"), cache);
      const agent = runAgentPrivate(lab.ns, { attachments: [attachment] }, ro ? readOnly(stateDir) : "", {
        dir,
      });
      try {
        await agent.waitLog(/^pn0: held /, 20_000);
        expect(agent.messages()).toContain(`pn0: held ${lab.cidr} (from dhcp)`);
        expect(await lab.addresses()).toEqual([lab.cidr]);
        const setAside = agent.messages().filter((m) => m.startsWith("pn0: cache set aside"));
        expect(setAside, agent.messages().join("\n")).toHaveLength(1);
        expect(setAside[0]).toMatch(logged);
        if (ro)
          expect(
            agent.messages().some((m) => /cache not written \(cannot write .* \(EROFS\)\)/.test(m)),
          ).toBe(true);
      } finally {
        expect((await agent.stop()).code).toBe(0);
      }
    },
  );
});
