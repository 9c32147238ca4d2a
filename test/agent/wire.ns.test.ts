/**
 * The hold sees the wire (issue 11, design §3 step 7): the bundled agent in one lab node,
 * a real second host (another lab node) on the same bridge, iputils arping, tcpdump.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import type { LabNode } from "../../src/harness/topology.js";
import type { NsProcess } from "../../src/harness/netns.js";
import { run } from "../../src/util/exec.js";
import { skipUnlessRoot } from "../helpers/root.js";
import { uniquePrefix, useTopology } from "../helpers/topology.js";
import { AGENT_NODE_OPTIONS } from "../../src/agent/node-options.js";
import { BUNDLE, NODE20, runAgent, waitFor, type AgentRun } from "../helpers/agent-process.js";

const skip = skipUnlessRoot(import.meta.url, "ARP announce/probe against a second host in namespaces");

// short, so "within one interval" is seconds; a probe run that finds nobody takes ~3 s
const INTERVAL_S = 3;

interface StatusAttachment {
  state: string;
  cidr: string | null;
  lastError: string | null;
  conflict: { mac: string; since: string } | null;
}

function statusOf(agent: AgentRun): StatusAttachment | undefined {
  try {
    const doc = JSON.parse(readFileSync(join(agent.runDir, "status.json"), "utf8")) as {
      attachments: StatusAttachment[];
    };
    return doc.attachments[0];
  } catch {
    return undefined; // not written yet, or mid-rename
  }
}

function metric(agent: AgentRun, name: string): number | undefined {
  let text = "";
  try {
    text = readFileSync(join(agent.dir, "holdfast.prom"), "utf8");
  } catch {
    return undefined;
  }
  const line = text.split("\n").find((l) => l.startsWith(`${name}{interface="pn0"} `));
  return line === undefined ? undefined : Number(line.split(" ")[1]);
}

/** `holdfast check` inside the agent's namespace: check asks that kernel whether the address is on the link. */
async function check(agent: AgentRun, node: LabNode): Promise<{ code: number | null; line: string }> {
  const result = await node.ns.exec(
    NODE20,
    [...AGENT_NODE_OPTIONS, BUNDLE, "check", "--config", agent.configPath],
    {
      timeoutMs: 15_000,
    },
  );
  return { code: result.code, line: result.stdout.trim() };
}

/** tcpdump in a namespace, ARP only, one line per packet with MACs. */
function sniff(node: LabNode, file: string): NsProcess {
  return node.ns.spawn("tcpdump", ["-i", "pn0", "-n", "-e", "-l", "-U", "arp"], { stdout: file });
}

/** Gratuitous requests for `ip` (sender IP = target IP) in a tcpdump log. */
function announcementsIn(file: string, ip: string): string[] {
  const text = readFileSync(file, "utf8");
  return text.split("\n").filter((l) => l.includes(`Request who-has ${ip} (ff:ff:ff:ff:ff:ff) tell ${ip},`));
}

/** The values once they have not changed for 3 s (more than ANNOUNCE_INTERVAL), polled every 250 ms. */
async function quiet<T extends number[]>(read: () => T, forMs = 3000, limitMs = 30_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  let last = read();
  let since = Date.now();
  while (Date.now() - since < forMs) {
    if (Date.now() > deadline) throw new Error(`still changing after ${limitMs} ms: ${last.join(", ")}`);
    await sleep(250);
    const now = read();
    if (now.join() !== last.join()) {
      last = now;
      since = Date.now();
    }
  }
  return last;
}

const agentConfig = (cidr: string, conflict: Record<string, unknown>, dir: string) => ({
  metrics: { textfile: join(dir, "holdfast.prom") },
  attachments: [
    {
      interface: "pn0",
      address: { source: "static", cidr },
      conflict: { interval: `${INTERVAL_S}s`, ...conflict },
      reconcileInterval: "5s",
    },
  ],
});

describe.skipIf(skip)("the hold sees the wire (namespaces, a real second host, arping)", () => {
  const topo = useTopology({
    prefix: uniquePrefix("w"),
    startKea: false,
    nodes: [
      { name: "n1", ip: "198.18.0.21" },
      { name: "n2", ip: "198.18.0.22" },
    ],
  });
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** Starts the agent in n1 holding n1's address statically; returns it once held. */
  async function holding(
    conflict: Record<string, unknown>,
  ): Promise<{ agent: AgentRun; self: LabNode; other: LabNode }> {
    const [self, other] = topo.current.nodes as [LabNode, LabNode];
    const dir = mkdtempSync(join(topo.current.workDir, "agent-"));
    const agent = runAgent(self.ns, agentConfig(self.cidr, conflict, dir), { dir });
    cleanups.push(() => agent.stop());
    cleanups.push(() =>
      run("ip", ["-n", other.ns.name, "addr", "flush", "dev", "pn0"], { timeoutMs: 10_000 }),
    );
    cleanups.push(() =>
      run("ip", ["-n", self.ns.name, "addr", "flush", "dev", "pn0"], { timeoutMs: 10_000 }),
    );
    await agent.waitLog(/^pn0: held /, 15_000);
    return { agent, self, other };
  }

  function startSniffer(node: LabNode, name: string): string {
    const file = `${topo.current.workDir}/${name}-${Date.now()}.tcpdump`;
    const proc = sniff(node, file);
    cleanups.push(async () => {
      proc.kill("SIGTERM");
      await proc.exited;
    });
    return file;
  }

  it("announces the address with gratuitous ARP after a restore, seen by tcpdump on the other host", async () => {
    const { agent, self, other } = await holding({ detect: false });
    const file = startSniffer(other, "restore");
    // tcpdump listening, and the start-up announcements over (no new one for 3 s)
    const [before] = await quiet((): [number] => [announcementsIn(file, self.ip).length]);
    await self.ns.exec("ip", ["addr", "del", self.cidr, "dev", "pn0"]);
    await agent.waitLog(/re-asserted/, 5000);
    const lines = await waitFor(
      "a gratuitous ARP after the restore",
      () => {
        const all = announcementsIn(file, self.ip);
        return all.length > before ? all : undefined;
      },
      5000,
      50,
    );
    // from our MAC, sender IP = target IP = the held address (RFC 5227 §2.3)
    expect(lines?.at(-1), readFileSync(file, "utf8")).toContain(`${self.mac} > ff:ff:ff:ff:ff:ff`);
    // ANNOUNCE_NUM = 2, ANNOUNCE_INTERVAL = 2 s: then quiet
    const [after] = await quiet((): [number] => [announcementsIn(file, self.ip).length]);
    expect(after - before).toBe(2);
  });

  it("reports a conflict within one interval in status, check and metric, and keeps the address (defend)", async () => {
    const { agent, self, other } = await holding({ onConflict: "defend" });
    await sleep(500);
    expect(statusOf(agent)?.conflict).toBeNull();
    const takenAt = Date.now();
    await other.ns.exec("ip", ["addr", "add", self.cidr, "dev", "pn0"]);
    const report = await waitFor(
      "conflict in status",
      () => statusOf(agent)?.conflict,
      2 * INTERVAL_S * 1000,
    );
    const detectedMs = Date.now() - takenAt;
    expect(detectedMs, `detected after ${detectedMs} ms`).toBeLessThanOrEqual(INTERVAL_S * 1000 + 1000);
    expect(report?.mac).toBe(other.mac);
    await waitFor("conflict metric 1", () => metric(agent, "holdfast_address_conflict") === 1, 3000);
    expect(await check(agent, self)).toEqual({
      code: 1,
      line: `conflict: pn0 ${self.ip} also at ${other.mac}`,
    });
    // defend: the address stays, the agent announces (at most once per 10 s)
    expect(await self.addresses()).toEqual([self.cidr]);
    expect(agent.messages()).toContain(
      `pn0: conflict: ${other.mac} also answers for ${self.cidr}; defending it`,
    );

    // the other host leaves: the report clears at the next probe
    await other.ns.exec("ip", ["addr", "del", self.cidr, "dev", "pn0"]);
    await waitFor("conflict cleared", () => statusOf(agent)?.conflict === null, 2 * INTERVAL_S * 1000 + 4000);
    await waitFor("conflict metric 0", () => metric(agent, "holdfast_address_conflict") === 0, 3000);
    expect((await check(agent, self)).code).toBe(0);
    expect(await self.addresses()).toEqual([self.cidr]);
  });

  it("yields: removes the address and does not re-take it while the other host remains, then takes it back", async () => {
    const { agent, self, other } = await holding({ onConflict: "yield" });
    await other.ns.exec("ip", ["addr", "add", self.cidr, "dev", "pn0"]);
    await waitFor(
      "address yielded",
      async () => (await self.addresses()).length === 0,
      2 * INTERVAL_S * 1000,
    );
    // the address goes first, the log line after it
    await agent.waitLog(new RegExp(`^pn0: yielded ${self.cidr.replace(/\./g, "\\.")} to ${other.mac}`), 5000);
    // several intervals (and reconcile passes) later it is still not taken
    const watchUntil = Date.now() + 3 * INTERVAL_S * 1000;
    while (Date.now() < watchUntil) {
      expect(
        await self.addresses(),
        `re-taken while the other host still answers; log:\n${agent.messages().join("\n")}`,
      ).toEqual([]);
      await sleep(100);
    }
    const status = statusOf(agent);
    expect(status?.conflict?.mac).toBe(other.mac);
    expect(status?.state).toBe("failed");
    expect((await check(agent, self)).code).toBe(1);

    await other.ns.exec("ip", ["addr", "del", self.cidr, "dev", "pn0"]);
    await waitFor(
      "address taken back",
      async () => (await self.addresses()).includes(self.cidr),
      3 * INTERVAL_S * 1000,
    );
    await waitFor(
      "conflict cleared",
      () => statusOf(agent)?.conflict === null && statusOf(agent)?.state === "held",
      3000,
    );
  });

  it("does not storm: a loop of 1000 delete attempts gets rate-limited announcements", async () => {
    const { agent, self, other } = await holding({ detect: false });
    const file = startSniffer(other, "storm");
    // the start-up announcements over: the wire and the metric both quiet for longer than
    // ANNOUNCE_INTERVAL (a busy machine can hold back arping, tcpdump or the textfile)
    const settled = () =>
      quiet((): [number, number] => [
        announcementsIn(file, self.ip).length,
        metric(agent, "holdfast_arp_announcements_total") ?? 0,
      ]);
    const [before, metricBefore] = await settled();
    const started = Date.now();
    const loop = await self.ns.exec(
      "sh",
      [
        "-c",
        `n=0; for i in $(seq 1000); do ip addr del ${self.cidr} dev pn0 2>/dev/null && n=$((n+1)); done; echo $n`,
      ],
      { timeoutMs: 120_000 },
    );
    const loopMs = Date.now() - started;
    await waitFor("address back", async () => (await self.addresses()).includes(self.cidr), 5000);
    const [seenAfter, countedAfter] = await settled(); // the queued announcements drain
    const seen = seenAfter - before;
    const counted = countedAfter - metricBefore;
    const deletions = Number(loop.stdout.trim());
    // at most one per ANNOUNCE_INTERVAL (2 s) while the loop ran, plus the ANNOUNCE_NUM after it
    const bound = Math.ceil(loopMs / 2000) + 2 + 1;
    console.log(
      `storm: ${deletions} deletions in ${loopMs} ms; ${seen} announcements on the wire, ${counted} counted (bound ${bound})`,
    );
    expect(deletions).toBeGreaterThan(100);
    expect(seen).toBeLessThanOrEqual(bound);
    expect(seen).toBeGreaterThanOrEqual(1);
    expect(counted).toBe(seen);
  });
});
