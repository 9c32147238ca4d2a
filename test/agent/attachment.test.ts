import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startAgent, type RunningAgent } from "../../src/agent/agent.js";
import type { AgentObserver, ReassertReason } from "../../src/agent/events.js";
import { parseConfig } from "../../src/config/load.js";
import { DiscoveryTimeout, type Lease } from "../../src/dhcp/lease.js";
import { findArpTool } from "../../src/net/arp.js";
import type { NetEvent } from "../../src/net/backend.js";
import { FakeBackend } from "../helpers/fake-backend.js";
import { scratchDir } from "../helpers/scratch.js";

const MAC = "02:00:00:00:00:0a";
const LEASE: Lease & { client: string } = {
  cidr: "198.18.0.10/22",
  routes: [],
  server: "169.254.169.254",
  leaseSeconds: 10,
  client: "fake",
};

interface Harness {
  agent: RunningAgent;
  backend: FakeBackend;
  emit: (event: NetEvent) => void;
  logs: string[];
  reasserts: ReassertReason[];
  /** each reassert's latency, in the order of reasserts */
  latencies: number[];
  discoveries: string[];
  /** every statusChanged: "<state> <cidr or -> <lastError or ->" */
  changes: string[];
  /** interfaces, once per linkRecreated */
  recreated: string[];
  stateDir: string;
}

const agents: RunningAgent[] = [];
afterEach(async () => {
  for (const agent of agents.splice(0)) await agent.stop();
});

function start(options: {
  attachments?: unknown[];
  discover?: () => Promise<Lease & { client: string }>;
  backend?: FakeBackend;
  stateDir?: string;
}): Harness {
  const dir = scratchDir("hf-agent-");
  const stateDir = options.stateDir ?? join(dir, "state");
  const config = parseConfig({
    version: 1,
    stateDir,
    runDir: join(dir, "run"),
    attachments: options.attachments ?? [{ interface: "pn0", reconcileInterval: "30s" }],
  });
  const backend = options.backend ?? new FakeBackend();
  const logs: string[] = [];
  const reasserts: ReassertReason[] = [];
  const latencies: number[] = [];
  const discoveries: string[] = [];
  const changes: string[] = [];
  let emit: (event: NetEvent) => void = () => undefined;
  const recreated: string[] = [];
  const observer: AgentObserver = {
    reasserted: (_iface, reason, latencyMs) => {
      reasserts.push(reason);
      latencies.push(latencyMs);
    },
    discoveryAttempt: (_iface, result) => discoveries.push(result),
    statusChanged: (status) =>
      changes.push(`${status.state} ${status.cidr ?? "-"} ${status.lastError ?? "-"}`),
    linkRecreated: (iface) => recreated.push(iface),
  };
  const agent = startAgent({
    config,
    backend,
    observers: [observer],
    log: (subject, message) => logs.push(`${subject}: ${message}`),
    discover: options.discover ?? (async () => LEASE),
    monitor: (onEvent) => {
      emit = onEvent;
      return { stop: () => undefined };
    },
  });
  agents.push(agent);
  return {
    agent,
    backend,
    emit: (e) => emit(e),
    logs,
    reasserts,
    latencies,
    discoveries,
    changes,
    recreated,
    stateDir,
  };
}

const until = async (what: () => boolean, ms = 2000) => {
  const deadline = Date.now() + ms;
  while (!what()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
};

const deleted = (iface: string, address?: string): NetEvent => ({
  kind: "address",
  interface: iface,
  deleted: true,
  address,
  raw: "",
});

describe("agent with a fake kernel", () => {
  it("discovers, caches, holds with infinite lifetime, logs one line per state change", async () => {
    const backend = new FakeBackend();
    backend.addLink("pn0", MAC);
    const h = start({ backend });
    await until(() => h.agent.status()[0]?.state === "held");
    expect(backend.addresses.get("pn0")).toEqual([
      { cidr: "198.18.0.10/22", validLft: "forever", preferredLft: "forever" },
    ]);
    const cache = JSON.parse(readFileSync(join(h.stateDir, "pn0.json"), "utf8"));
    expect(cache).toMatchObject({
      version: 1,
      interface: "pn0",
      cidr: "198.18.0.10/22",
      identity: { kind: "existing", mac: MAC },
    });
    expect(h.logs.filter((l) => l.startsWith("pn0:"))).toEqual([
      "pn0: discovering",
      "pn0: discovered 198.18.0.10/22 via fake",
      "pn0: held 198.18.0.10/22 (from dhcp)",
    ]);
    expect(h.reasserts).toEqual(["startup"]);
  });

  it("puts a deleted address back on the event and counts it as deleted", async () => {
    const backend = new FakeBackend();
    backend.addLink("pn0", MAC);
    const h = start({ backend });
    await until(() => h.agent.status()[0]?.state === "held");
    backend.addresses.set("pn0", []);
    h.emit(deleted("pn0", "198.18.0.10/22"));
    await until(() => h.reasserts.length === 2);
    expect(h.reasserts).toEqual(["startup", "deleted"]);
    // the event named the held address: restored through the batch process, no awaited call
    expect(backend.ops.slice(-1)).toEqual([
      "batch addr replace 198.18.0.10/22 dev pn0 valid_lft forever preferred_lft forever",
    ]);
    expect(backend.addresses.get("pn0")?.[0]?.cidr).toBe("198.18.0.10/22");
    expect(h.logs.at(-1)).toMatch(/^pn0: address deleted, re-asserted 198\.18\.0\.10\/22 in [\d.]+ ms$/);
  });

  it("does not reconcile on the kernel's echo of its own hold, but does on anything else", async () => {
    const backend = new FakeBackend();
    backend.addLink("pn0", MAC);
    const h = start({ backend });
    await until(() => h.agent.status()[0]?.state === "held");
    const reads = backend.reads;
    h.emit({
      kind: "address",
      interface: "pn0",
      deleted: false,
      address: "198.18.0.10/22",
      permanent: true,
      raw: "",
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(backend.reads).toBe(reads);
    h.emit({
      kind: "address",
      interface: "pn0",
      deleted: false,
      address: "198.18.0.10/22",
      permanent: false,
      raw: "",
    });
    await until(() => backend.reads === reads + 1);
  });

  it("replaces an address a DHCP client left with a finite lifetime", async () => {
    const backend = new FakeBackend();
    backend.addLink("pn0", MAC);
    const h = start({ backend });
    await until(() => h.agent.status()[0]?.state === "held");
    backend.addresses.set("pn0", [{ cidr: "198.18.0.10/22", validLft: 10, preferredLft: 10 }]);
    h.emit(deleted("pn0"));
    await until(() => backend.addresses.get("pn0")?.[0]?.validLft === "forever");
  });

  it("holds the lease's routes and puts a deleted one back", async () => {
    const backend = new FakeBackend();
    backend.addLink("pn0", MAC);
    const route = { dst: "10.0.0.0/8", via: "198.18.0.1", metric: 1024 };
    const h = start({ backend, discover: async () => ({ ...LEASE, routes: [route] }) });
    await until(() => h.agent.status()[0]?.state === "held");
    expect(backend.routes.get("pn0")).toEqual([route]);
    backend.routes.set("pn0", []);
    h.emit({ kind: "route", interface: "pn0", deleted: true, raw: "" });
    await until(() => backend.routes.get("pn0")?.length === 1);
    expect(backend.ops.filter((op) => op.startsWith("route replace"))).toEqual([
      "route replace 10.0.0.0/8 via 198.18.0.1 dev pn0",
      "route replace 10.0.0.0/8 via 198.18.0.1 dev pn0",
    ]);
  });

  it("keeps a VLAN's identity (its real parent) when the default route moves to another NIC", async () => {
    const backend = new FakeBackend();
    backend.addLink("eno1", "aa:bb:cc:00:00:01");
    backend.addLink("eno2", "aa:bb:cc:00:00:02");
    backend.defaultRoute = "eno1";
    const h = start({
      backend,
      attachments: [{ interface: "pn0", link: { kind: "vlan", parent: "auto", vlanId: 3250 } }],
    });
    await until(() => h.agent.status()[0]?.state === "held");
    expect(backend.links.get("pn0")?.parent).toBe("eno1");
    backend.defaultRoute = "eno2";
    h.emit({ kind: "route", interface: "eno2", deleted: false, raw: "" });
    h.emit({ kind: "link", interface: "eno1", deleted: false, raw: "" });
    backend.defaultRoute = undefined;
    h.emit({ kind: "link", interface: "eno2", deleted: false, raw: "" });
    await new Promise((r) => setTimeout(r, 100));
    expect(h.agent.status()[0]?.state).toBe("held");
    expect(h.logs.some((l) => l.includes("identity changed") || l.includes("set aside"))).toBe(false);
    expect(backend.ops.filter((op) => op.startsWith("link add"))).toHaveLength(1);
  });

  it("rediscovers when the VLAN's parent NIC is replaced (new MAC): identity changed, cache set aside", async () => {
    // GIVEN pn0 as VLAN 3250 on eno1, held from DHCP and cached with eno1's MAC
    const backend = new FakeBackend();
    backend.addLink("eno1", "aa:bb:cc:00:00:01");
    const leases = ["198.18.0.10/22", "198.18.0.20/22"];
    const h = start({
      backend,
      attachments: [{ interface: "pn0", link: { kind: "vlan", parent: "eno1", vlanId: 3250 } }],
      discover: async () => ({ ...LEASE, cidr: leases.shift()! }),
    });
    await until(() => h.agent.status()[0]?.state === "held");
    const cacheFile = join(h.stateDir, "pn0.json");
    expect(JSON.parse(readFileSync(cacheFile, "utf8")).identity).toEqual({
      kind: "vlan",
      vlanId: 3250,
      parentMac: "aa:bb:cc:00:00:01",
    });
    // WHEN the NIC is swapped: pn0 goes with its parent, eno1 comes back with another MAC
    backend.deleteLink("pn0");
    backend.deleteLink("eno1");
    backend.addLink("eno1", "aa:bb:cc:00:00:99");
    h.emit({ kind: "link", interface: "pn0", deleted: true, raw: "" });
    // THEN the VLAN is re-created on the new NIC, and the old address is not re-applied to it
    await until(() => h.agent.status()[0]?.cidr === "198.18.0.20/22");
    const newIdentity = { kind: "vlan", vlanId: 3250, parentMac: "aa:bb:cc:00:00:99" };
    expect(h.logs).toContain(`pn0: identity changed (${JSON.stringify(newIdentity)}), rediscovering`);
    expect(
      h.logs.some(
        (l) => l.startsWith("pn0: cache set aside: other identity") && l.includes('"aa:bb:cc:00:00:01"'),
      ),
      h.logs.join("\n"),
    ).toBe(true);
    expect(h.discoveries).toEqual(["ok", "ok"]);
    expect(backend.addresses.get("pn0")?.map((a) => a.cidr)).toEqual(["198.18.0.20/22"]);
    expect(backend.links.get("pn0")).toMatchObject({ kind: "vlan", vlanId: 3250, parent: "eno1" });
    expect(JSON.parse(readFileSync(cacheFile, "utf8"))).toMatchObject({
      cidr: "198.18.0.20/22",
      identity: newIdentity,
    });
    expect(readdirSync(h.stateDir).filter((f) => f.startsWith("pn0.json.corrupt-"))).toHaveLength(1);
  });

  it("does not use a cache of another VLAN id after a restart with a new vlanId", async () => {
    // GIVEN a cache written for VLAN 3250 on eno1
    const backend = new FakeBackend();
    backend.addLink("eno1", "aa:bb:cc:00:00:01");
    const first = start({
      backend,
      attachments: [{ interface: "pn0", link: { kind: "vlan", parent: "eno1", vlanId: 3250 } }],
    });
    await until(() => first.agent.status()[0]?.state === "held");
    await first.agent.stop();
    backend.deleteLink("pn0");
    // WHEN the agent restarts configured for VLAN 3251 on the same parent
    let exchanges = 0;
    const second = start({
      backend,
      stateDir: first.stateDir,
      attachments: [{ interface: "pn0", link: { kind: "vlan", parent: "eno1", vlanId: 3251 } }],
      discover: async () => {
        exchanges++;
        return { ...LEASE, cidr: "198.18.0.30/22" };
      },
    });
    // THEN the 3250 cache is set aside and the address comes from a new exchange
    await until(() => second.agent.status()[0]?.state === "held");
    expect(exchanges).toBe(1);
    expect(second.agent.status()[0]).toMatchObject({ cidr: "198.18.0.30/22", origin: "dhcp" });
    expect(second.logs.find((l) => l.startsWith("pn0: cache set aside"))).toContain(
      `other identity (${JSON.stringify({ kind: "vlan", vlanId: 3250, parentMac: "aa:bb:cc:00:00:01" })}, now ${JSON.stringify({ kind: "vlan", vlanId: 3251, parentMac: "aa:bb:cc:00:00:01" })})`,
    );
    expect(backend.links.get("pn0")).toMatchObject({ vlanId: 3251, parent: "eno1" });
  });

  it("stays held, with the error shown, when the kernel refuses a lease route", async () => {
    const backend = new FakeBackend();
    backend.addLink("pn0", MAC);
    backend.failNext = "route replace";
    const route = { dst: "10.0.0.0/8", via: "198.18.0.1", metric: 1024 };
    const h = start({ backend, discover: async () => ({ ...LEASE, routes: [route] }) });
    await until(() => h.agent.status()[0]?.lastError?.startsWith("route:") === true);
    expect(h.agent.status()[0]?.state).toBe("held");
    h.emit({ kind: "route", interface: "pn0", deleted: true, raw: "" });
    await until(() => h.agent.status()[0]?.lastError === null);
    expect(backend.routes.get("pn0")).toEqual([route]);
  });

  it("uses the cache without any DHCP exchange", async () => {
    const backend = new FakeBackend();
    backend.addLink("pn0", MAC);
    const first = start({ backend });
    await until(() => first.agent.status()[0]?.state === "held");
    await first.agent.stop();
    backend.addresses.set("pn0", []);
    let exchanges = 0;
    const second = start({
      backend,
      stateDir: first.stateDir,
      discover: async () => {
        exchanges++;
        return LEASE;
      },
    });
    await until(() => second.agent.status()[0]?.state === "held");
    expect(exchanges).toBe(0);
    expect(second.agent.status()[0]?.origin).toBe("cache");
  });

  it("sets aside a corrupt cache, logs it and rediscovers", async () => {
    const backend = new FakeBackend();
    backend.addLink("pn0", MAC);
    const dir = scratchDir("hf-state-");
    writeFileSync(join(dir, "pn0.json"), "{ not json");
    const h = start({ backend, stateDir: dir });
    await until(() => h.agent.status()[0]?.state === "held");
    expect(readdirSync(dir).some((f) => f.startsWith("pn0.json.corrupt-"))).toBe(true);
    expect(
      h.logs.some((l) => /^pn0: cache set aside: not valid JSON; moved to .*pn0\.json\.corrupt-/.test(l)),
    ).toBe(true);
    expect(h.agent.status()[0]?.origin).toBe("dhcp");
  });

  it("sets aside a cache of another identity (other MAC) and rediscovers", async () => {
    const backend = new FakeBackend();
    backend.addLink("pn0", MAC);
    const first = start({ backend });
    await until(() => first.agent.status()[0]?.state === "held");
    await first.agent.stop();
    backend.deleteLink("pn0");
    backend.addLink("pn0", "02:00:00:00:00:ff");
    const second = start({
      backend,
      stateDir: first.stateDir,
      discover: async () => ({ ...LEASE, cidr: "198.18.0.11/22" }),
    });
    await until(() => second.agent.status()[0]?.state === "held");
    expect(second.agent.status()[0]?.cidr).toBe("198.18.0.11/22");
    expect(second.logs.some((l) => l.includes("cache set aside: other identity"))).toBe(true);
  });

  it("keeps discovering with backoff while the server does not answer, then holds", async () => {
    const backend = new FakeBackend();
    backend.addLink("pn0", MAC);
    let calls = 0;
    const h = start({
      backend,
      attachments: [{ interface: "pn0", discovery: { maxBackoff: "1s" } }],
      discover: async () => {
        if (++calls < 3) throw new DiscoveryTimeout("pn0", 10);
        return LEASE;
      },
    });
    await until(() => h.agent.status()[0]?.state === "discovering");
    await until(() => h.agent.status()[0]?.state === "held", 5000);
    expect(h.discoveries).toEqual(["timeout", "timeout", "ok"]);
    expect(h.logs.filter((l) => l.includes("discovery:"))).toHaveLength(1);
  });

  it("holds one attachment while another's interface never appears", async () => {
    const backend = new FakeBackend();
    backend.addLink("pn0", MAC);
    const h = start({ backend, attachments: [{ interface: "pn0" }, { interface: "pn1" }] });
    await until(() => h.agent.status()[0]?.state === "held");
    expect(h.agent.status()[1]?.state).toBe("waiting-link");
  });

  it("reports failed when the kernel refuses, and retries", async () => {
    const backend = new FakeBackend();
    backend.addLink("pn0", MAC);
    backend.failNext = "addr replace";
    const h = start({
      backend,
      attachments: [{ interface: "pn0", address: { source: "static", cidr: "198.18.0.12/22" } }],
    });
    await until(() => h.agent.status()[0]?.state === "failed");
    expect(h.agent.status()[0]?.lastError).toMatch(/Operation not permitted/);
    await until(() => h.agent.status()[0]?.state === "held", 3000);
    expect(h.agent.status()[0]?.lastError).toBeNull();
  });

  it("tells observers of each state and error change once, and nothing for a pass that changes nothing", async () => {
    const backend = new FakeBackend();
    backend.addLink("pn0", MAC);
    const route = { dst: "10.0.0.0/8", via: "198.18.0.1", metric: 1024 };
    const h = start({ backend, discover: async () => ({ ...LEASE, routes: [route] }) });
    await until(() => h.agent.status()[0]?.state === "held");
    expect(h.changes).toEqual(["discovering - -", "held 198.18.0.10/22 -"]);
    // a pass that finds everything in place: no change to report
    const reads = backend.reads;
    h.emit({ kind: "link", interface: "pn0", deleted: false, raw: "" });
    await until(() => backend.reads > reads);
    await new Promise((r) => setTimeout(r, 50));
    expect(h.changes).toHaveLength(2);
    // the kernel refuses the lease route: the error alone changes, and then clears
    backend.routes.set("pn0", []);
    backend.failNext = "route replace";
    h.emit({ kind: "route", interface: "pn0", deleted: true, raw: "" });
    await until(() => h.changes.length === 3);
    expect(h.changes[2]).toMatch(
      /^held 198\.18\.0\.10\/22 route: RTNETLINK answers: Operation not permitted/,
    );
    h.emit({ kind: "route", interface: "pn0", deleted: true, raw: "" });
    await until(() => h.changes.length === 4);
    expect(h.changes[3]).toBe("held 198.18.0.10/22 -");
  });

  it("logs waiting for the link once, however many passes find it missing", async () => {
    const backend = new FakeBackend();
    const h = start({ backend });
    await until(() => h.agent.status()[0]?.lastReconcileAt !== null);
    for (let i = 0; i < 3; i++) h.emit({ kind: "link", interface: "pn0", deleted: true, raw: "" });
    await new Promise((r) => setTimeout(r, 100));
    expect(h.logs.filter((l) => l.startsWith("pn0:"))).toEqual([
      "pn0: waiting for link (interface does not exist)",
    ]);
    expect(h.agent.status()[0]?.state).toBe("waiting-link");
    // it appears: held, with one more line
    backend.addLink("pn0", MAC);
    h.emit({ kind: "link", interface: "pn0", deleted: false, raw: "" });
    await until(() => h.agent.status()[0]?.state === "held");
    expect(h.logs.filter((l) => l.startsWith("pn0:")).slice(0, 2)).toEqual([
      "pn0: waiting for link (interface does not exist)",
      "pn0: discovering",
    ]);
  });

  it("retries a refused address with growing backoff, logging the failure once", async () => {
    const backend = new FakeBackend();
    backend.addLink("pn0", MAC);
    let refusals = 0;
    backend.replaceAddress = async () => {
      refusals++;
      throw new Error("RTNETLINK answers: File exists");
    };
    const h = start({
      backend,
      attachments: [{ interface: "pn0", address: { source: "static", cidr: "198.18.0.12/22" } }],
    });
    // retries after 0.5-1 s, then 1-2 s, then 2-4 s: at most 3 passes in 3 s (a slow machine makes fewer)
    await new Promise((r) => setTimeout(r, 3000));
    expect(refusals, "the first pass and its retries").toBeGreaterThanOrEqual(2);
    expect(refusals, "retries must back off, not hammer the kernel").toBeLessThanOrEqual(3);
    expect(h.logs.filter((l) => l.startsWith("pn0: failed"))).toEqual([
      "pn0: failed: RTNETLINK answers: File exists",
    ]);
    expect(h.agent.status()[0]).toMatchObject({
      state: "failed",
      lastError: "RTNETLINK answers: File exists",
    });
  });

  it("re-asserts on the periodic pass when no event said anything, and counts it as periodic", async () => {
    const backend = new FakeBackend();
    backend.addLink("pn0", MAC);
    const h = start({
      backend,
      attachments: [
        {
          interface: "pn0",
          address: { source: "static", cidr: "198.18.0.12/22" },
          reconcileInterval: "100ms",
        },
      ],
    });
    await until(() => h.agent.status()[0]?.state === "held");
    backend.addresses.set("pn0", []);
    await until(() => h.reasserts.length === 2);
    expect(h.reasserts).toEqual(["startup", "periodic"]);
    expect(h.logs.at(-1)).toMatch(/^pn0: address deleted, re-asserted 198\.18\.0\.12\/22 in [\d.]+ ms$/);
    // a latency in ms, to 0.1 ms: an in-memory kernel answers well within a second
    expect(
      h.latencies.every((ms) => ms >= 0 && ms < 1000 && Math.round(ms * 10) === ms * 10),
      `${h.latencies}`,
    ).toBe(true);
  });

  it("counts a re-created link as link-recreated and tells observers", async () => {
    const backend = new FakeBackend();
    backend.addLink("eno1", "aa:bb:cc:00:00:01");
    const h = start({
      backend,
      attachments: [{ interface: "pn0", link: { kind: "vlan", parent: "eno1", vlanId: 3250 } }],
    });
    await until(() => h.agent.status()[0]?.state === "held");
    expect(h.recreated).toEqual([]);
    backend.deleteLink("pn0");
    h.emit({ kind: "link", interface: "pn0", deleted: true, raw: "" });
    await until(() => h.reasserts.length === 2);
    expect(h.reasserts).toEqual(["startup", "link-recreated"]);
    expect(h.recreated).toEqual(["pn0"]);
    expect(h.logs).toContain("pn0: created VLAN 3250 on eno1");
    expect(h.logs.at(-1)).toMatch(/^pn0: link re-created, re-asserted 198\.18\.0\.10\/22 in [\d.]+ ms$/);
  });

  it("takes a permanent-address event while still discovering in its stride", async () => {
    const backend = new FakeBackend();
    backend.addLink("pn0", MAC);
    let answer: (lease: Lease & { client: string }) => void = () => undefined;
    const h = start({ backend, discover: () => new Promise((resolve) => (answer = resolve)) });
    await until(() => h.agent.status()[0]?.state === "discovering");
    // nothing held yet: the echo shortcut must not read a held address that is not there
    h.emit({
      kind: "address",
      interface: "pn0",
      deleted: false,
      address: "198.18.0.10/22",
      permanent: true,
      raw: "",
    });
    answer(LEASE);
    await until(() => h.agent.status()[0]?.state === "held");
  });

  it("changes nothing after stop, whatever events still arrive", async () => {
    const backend = new FakeBackend();
    backend.addLink("pn0", MAC);
    const h = start({ backend });
    await until(() => h.agent.status()[0]?.state === "held");
    await h.agent.stop();
    const [reads, ops] = [backend.reads, backend.ops.length];
    backend.addresses.set("pn0", []);
    h.emit(deleted("pn0", "198.18.0.10/22"));
    await new Promise((r) => setTimeout(r, 100));
    expect([backend.reads, backend.ops.length]).toEqual([reads, ops]);
    expect(backend.addresses.get("pn0")).toEqual([]);
  });

  it("refuses a second agent on the same runDir", async () => {
    const backend = new FakeBackend();
    backend.addLink("pn0", MAC);
    const dir = scratchDir("hf-lock-");
    const config = parseConfig({
      version: 1,
      stateDir: join(dir, "s"),
      runDir: join(dir, "r"),
      attachments: [{ interface: "pn0" }],
    });
    const monitor = () => ({ stop: () => undefined });
    const first = startAgent({ config, backend, monitor, log: () => undefined, discover: async () => LEASE });
    agents.push(first);
    expect(() =>
      startAgent({ config, backend, monitor, log: () => undefined, discover: async () => LEASE }),
    ).toThrow(/another holdfast agent is already running/);
  });
});

// A fake backend is no kernel and has no wire: an agent started on one must never run the
// host's arping (it would announce on the host's own links, outside any test namespace).
describe("an agent on a fake backend and the wire", () => {
  it("never runs an ARP tool, though one is on PATH", async () => {
    const dir = scratchDir("hf-agent-nowire-");
    const ran = join(dir, "arping-ran");
    const arping = join(dir, "arping");
    writeFileSync(arping, `#!/bin/sh\necho iputils-fake\ntouch '${ran}'\n`);
    chmodSync(arping, 0o755);
    const path = process.env.PATH;
    process.env.PATH = `${dir}:${path ?? ""}`;
    try {
      // the control: the lookup would find this arping
      expect((await findArpTool())?.argv).toEqual([arping]);
      rmSync(ran, { force: true });
      const backend = new FakeBackend();
      backend.addLink("pn0", MAC);
      const h = start({
        backend,
        attachments: [
          { interface: "pn0", address: { source: "static", cidr: LEASE.cidr }, conflict: { interval: "1s" } },
        ],
      });
      await until(() => h.agent.status()[0]?.state === "held");
      h.emit(deleted("pn0", LEASE.cidr));
      await new Promise((r) => setTimeout(r, 1500));
      expect(existsSync(ran), "a real arping ran").toBe(false);
      expect(h.logs.join("\n")).not.toMatch(/arping/);
    } finally {
      process.env.PATH = path;
    }
  });
});
