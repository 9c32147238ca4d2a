/**
 * Debian's and Ubuntu's initramfs mount /run `noexec`. A DHCP client cannot run a hook
 * from there: it gets its lease, exits 0, and holdfast never hears of the lease. `holdfast
 * prove` found it on a real VM (udhcpc "lease of 198.18.0.10 obtained", the agent
 * "udhcpc failed on pn0 (exit 0)"); nspawn nodes mount /run executable, so nothing else
 * could. The real agent, real clients and real Kea, with runDir on a noexec tmpfs in a
 * private mount namespace (nothing mounted in the host's).
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { addressesOf, FOREVER } from "../helpers/agent-process.js";
import { runAgentPrivate } from "../helpers/private-mounts.js";
import { skipUnlessRoot } from "../helpers/root.js";
import { uniquePrefix, useTopology } from "../helpers/topology.js";
import { scratchDir } from "../helpers/scratch.js";

const skip = skipUnlessRoot(import.meta.url, "the agent with a noexec runDir against Kea");

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
/** a tmpfs mounted `noexec` at each dir, as Debian's initramfs mounts /run */
const noexec = (...dirs: string[]): string =>
  dirs.map((d) => `mkdir -p ${q(d)} && mount -t tmpfs -o noexec,mode=755 holdfast-test ${q(d)}`).join(" && ");

const dhcpAttachment = (client: string) => ({
  interface: "pn0",
  address: { source: "dhcp", dhcpClient: client },
  discovery: { attemptTimeout: "5s", maxBackoff: "2s" },
  reconcileInterval: "5s",
});

describe.skipIf(skip)("a noexec runDir (Debian's /run) never costs discovery", () => {
  const topo = useTopology({
    prefix: uniquePrefix("nx"),
    leaseSeconds: 30,
    nodes: [
      { name: "n1", ip: "198.18.0.21" },
      { name: "n2", ip: "198.18.0.22" },
      { name: "n3", ip: "198.18.0.23" },
      { name: "n4", ip: "198.18.0.24" },
    ],
  });

  it.each([
    ["udhcpc", 0],
    ["dhclient", 1],
    ["dhcpcd", 2],
  ])("discovers with %s and holds: the exchanges move to stateDir", async (client, index) => {
    const lab = topo.current.nodes[index]!;
    const dir = scratchDir("hf-noexec-");
    const runDir = join(dir, "run");
    const stateDir = join(dir, "state");
    const agent = runAgentPrivate(lab.ns, { attachments: [dhcpAttachment(client)] }, noexec(runDir), {
      dir,
    });
    try {
      await agent.waitLog(/^pn0: held /, 30_000);
      expect(agent.messages()).toContain(`pn0: discovered ${lab.cidr} via ${client}`);
      expect(agent.messages().join("\n")).toContain(
        `runDir ${runDir} does not let a DHCP client run holdfast's hook (noexec); DHCP exchanges run in ${stateDir}`,
      );
      expect(await addressesOf(lab.ns)).toEqual([
        { cidr: lab.cidr, validLft: FOREVER, preferredLft: FOREVER },
      ]);
    } finally {
      expect(await agent.stop()).toEqual({ code: 0, signal: null });
    }
  });

  it("says why discovery fails when no directory lets the hook run, and keeps trying", async () => {
    const lab = topo.current.nodes[3]!;
    const dir = scratchDir("hf-noexec-");
    const [runDir, stateDir, temp] = ["run", "state", "tmp"].map((d) => join(dir, d)) as [
      string,
      string,
      string,
    ];
    const agent = runAgentPrivate(
      lab.ns,
      { attachments: [dhcpAttachment("udhcpc")] },
      `${noexec(runDir, stateDir, temp)} && export TMPDIR=${q(temp)}`,
      { dir },
    );
    try {
      await agent.waitLog(/nor do stateDir/, 10_000);
      const failed = await agent.waitLog(/^pn0: discovery: /, 30_000);
      expect(failed).toMatch(/udhcpc: its hook cannot run from .* \(EACCES: mounted noexec\?\)/);
      expect(await addressesOf(lab.ns)).toEqual([]);
    } finally {
      expect(await agent.stop()).toEqual({ code: 0, signal: null });
    }
  });
});
