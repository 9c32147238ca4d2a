import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startAgent, type RunningAgent } from "../../src/agent/agent.js";
import { confirmIntervalMs, type ConfirmExchange } from "../../src/agent/confirm.js";
import type { ConfirmResult } from "../../src/agent/events.js";
import { parseConfig } from "../../src/config/load.js";
import { DiscoveryTimeout, type ConfirmAnswer } from "../../src/dhcp/lease.js";
import { evaluateCheck } from "../../src/observe/check.js";
import type { ArpTool } from "../../src/net/arp.js";
import { FakeBackend } from "../helpers/fake-backend.js";
import { scratchDir } from "../helpers/scratch.js";

/**
 * The confirm loop's decisions with a fake kernel and a scripted server. The proof against
 * real Kea and real clients is test/agent/confirm.ns.test.ts.
 */

const MAC = "02:00:00:00:00:0a";
const OLD = "198.18.0.10/22";
const NEW = "198.18.0.20/22";
const SERVER = "169.254.169.254";

const agents: RunningAgent[] = [];
afterEach(async () => {
  for (const agent of agents.splice(0)) await agent.stop();
});

const ack = (cidr: string): ConfirmAnswer => ({
  kind: "ack",
  lease: { cidr, routes: [], server: SERVER, leaseSeconds: 10 },
});

function start(
  answers: (() => ConfirmAnswer)[],
  address: Record<string, unknown> = {},
  wire: { conflict?: Record<string, unknown>; findArp?: () => Promise<ArpTool | undefined> } = {},
) {
  const dir = scratchDir("hf-confirm-");
  const stateDir = join(dir, "state");
  mkdirSync(stateDir);
  // a cache an hour old: the first confirm is due at once
  writeFileSync(
    join(stateDir, "pn0.json"),
    JSON.stringify({
      version: 1,
      interface: "pn0",
      identity: { kind: "existing", mac: MAC },
      cidr: OLD,
      routes: [],
      source: "dhcp",
      server: SERVER,
      leaseSeconds: 10,
      discoveredAt: new Date(Date.now() - 3_600_000).toISOString(),
    }),
  );
  const config = parseConfig({
    version: 1,
    stateDir,
    runDir: join(dir, "run"),
    attachments: [
      {
        interface: "pn0",
        address: { source: "dhcp", confirmInterval: "1s", ...address },
        ...(wire.conflict ? { conflict: wire.conflict } : {}),
      },
    ],
  });
  const backend = new FakeBackend();
  backend.addLink("pn0", MAC);
  const logs: string[] = [];
  const results: ConfirmResult[] = [];
  const asked: string[] = [];
  const confirm: ConfirmExchange = async (_attachment, request) => {
    asked.push(request.cidr);
    const next = answers.length > 1 ? answers.shift()! : answers[0]!;
    return { ...next(), client: "fake" };
  };
  const agent = startAgent({
    config,
    backend,
    log: (subject, message) => logs.push(`${subject}: ${message}`),
    discover: () => Promise.reject(new Error("not expected: the cache holds the address")),
    confirm,
    observers: [{ confirmAttempt: (_i, result) => results.push(result) }],
    monitor: () => ({ stop: () => undefined }),
    ...(wire.findArp ? { findArp: wire.findArp } : {}),
  });
  agents.push(agent);
  const cache = () => JSON.parse(readFileSync(join(stateDir, "pn0.json"), "utf8"));
  const status = () => agent.status()[0]!;
  return { agent, backend, logs, results, asked, cache, status };
}

const until = async (what: () => boolean, why: () => string, ms = 4000) => {
  const deadline = Date.now() + ms;
  while (!what()) {
    if (Date.now() > deadline) throw new Error(`not in time: ${why()}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

const held = (backend: FakeBackend) => (backend.addresses.get("pn0") ?? []).map((a) => a.cidr);

/**
 * A stand-in for arping (no packet leaves): announcements succeed; a probe of `contested`
 * waits for the file `release`, then prints another host's reply (as `arping -D` does, exit 1).
 */
function fakeArping(dir: string, contested: string, release: string): ArpTool {
  const script = join(dir, "arping");
  writeFileSync(
    script,
    [
      "#!/bin/sh",
      `echo "$*" >> ${join(dir, "arping.log")}`,
      "for last; do :; done # the target address is the last argument",
      'case " $* " in *" -D "*) ;; *) exit 0 ;; esac',
      `[ "$last" = "${contested}" ] || exit 0`,
      `i=0; while [ ! -e ${release} ] && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done`,
      `echo "Unicast reply from ${contested} [02:00:00:00:00:99]  0.5ms"`,
      "exit 1",
      "",
    ].join("\n"),
    { mode: 0o755 },
  );
  return { argv: [script], name: "fake arping" };
}

describe("confirm loop", () => {
  it("caches confirmedAt and shows who confirmed on an ACK", async () => {
    const h = start([() => ack(OLD)]);
    await until(
      () => h.results.includes("ack"),
      () => h.results.join(),
    );
    expect(h.cache()).toMatchObject({ cidr: OLD, leaseSeconds: 10, confirmedAt: expect.any(String) });
    expect(h.status()).toMatchObject({ cidr: OLD, confirmedBy: SERVER, lastConfirmedAt: expect.any(String) });
    expect(h.logs).toContain(`pn0: confirmed ${OLD} with ${SERVER} via fake`);
  });

  it("holds and caches a reassigned address before removing the old one", async () => {
    const h = start([() => ack(NEW)]);
    await until(
      () => held(h.backend).join() === NEW,
      () => h.backend.ops.join("\n"),
    );
    const ops = h.backend.ops.filter((op) => op.startsWith("addr"));
    const add = ops.indexOf(`addr replace ${NEW} dev pn0 valid_lft forever preferred_lft forever`);
    const del = ops.indexOf(`addr del ${OLD} dev pn0`);
    expect(add, ops.join("\n")).toBeGreaterThan(-1);
    expect(del, ops.join("\n")).toBeGreaterThan(add);
    expect(h.cache().cidr).toBe(NEW);
    expect(h.logs).toContain(`pn0: reassigned ${OLD} -> ${NEW} by ${SERVER}`);
    expect(h.status()).toMatchObject({ state: "held", cidr: NEW, origin: "dhcp", reassignment: null });
    // the next exchange asks for the new address
    await until(
      () => h.asked.at(-1) === NEW,
      () => h.asked.join(),
    );
  });

  it("GIVEN a conflict on the address just moved away from THEN the reassignment stands (yield)", async () => {
    const dir = scratchDir("hf-confirm-arp-");
    const release = join(dir, "release");
    const tool = fakeArping(dir, OLD.split("/")[0]!, release);
    // the probe of the old (cached) address is under way when the server moves the address
    const h = start([() => ack(NEW)], {}, { conflict: { onConflict: "yield" }, findArp: async () => tool });
    await until(
      () => held(h.backend).join() === NEW,
      () => h.backend.ops.join("\n"),
    );
    writeFileSync(release, "");
    await until(
      () => readFileSync(join(dir, "arping.log"), "utf8").includes(`-D`),
      () => "no probe ran",
    );
    await new Promise((r) => setTimeout(r, 500)); // the probe's answer is in, and judged
    expect(held(h.backend), h.logs.join("\n")).toEqual([NEW]);
    expect(h.cache().cidr).toBe(NEW);
    expect(h.status()).toMatchObject({ state: "held", cidr: NEW, conflict: null, lastError: null });
    expect(h.logs.filter((l) => /yield/.test(l))).toEqual([]);
  });

  it("GIVEN onReassign hold THEN the old address stays, lastError says why and check exits 1", async () => {
    const h = start([() => ack(NEW)], { onReassign: "hold" });
    await until(
      () => h.status().reassignment !== null,
      () => JSON.stringify(h.status()),
    );
    expect(held(h.backend)).toEqual([OLD]);
    expect(h.cache().cidr).toBe(OLD);
    expect(h.status().lastError).toBe(`reassigned to ${NEW} by ${SERVER}; holding ${OLD} (onReassign: hold)`);
    const verdict = evaluateCheck(["pn0"], {
      kind: "ok",
      file: "status.json",
      liveness: { running: true, reason: null, ageMs: 0 },
      status: {
        version: 1,
        agent: { pid: 1, version: "t", startedAt: "", updatedAt: "", reconcileIntervalMs: 30_000 },
        attachments: [h.status()],
      },
    });
    expect(verdict).toEqual({ exitCode: 1, line: `problem: pn0 holds ${OLD}, server gives ${NEW}` });
  });

  it("GIVEN a bare NAK THEN nothing moves; the NAK is reported and counted", async () => {
    const h = start([() => ({ kind: "nak", server: SERVER })]);
    await until(
      () => h.results.includes("nak"),
      () => h.results.join(),
    );
    expect(held(h.backend)).toEqual([OLD]);
    expect(h.cache().cidr).toBe(OLD);
    expect(h.status()).toMatchObject({ state: "held", cidr: OLD, reassignment: null });
    expect(h.status().lastError).toBe(`confirm: NAK from ${SERVER}, no address ACKed`);
  });

  it("GIVEN silence after an ACK THEN the address stays held and nothing is reported as an error", async () => {
    const h = start([
      () => ack(OLD),
      () => {
        throw new DiscoveryTimeout("pn0", 1000);
      },
    ]);
    await until(
      () => h.results.filter((r) => r === "timeout").length >= 2,
      () => h.results.join(),
      8000,
    );
    expect(held(h.backend)).toEqual([OLD]);
    expect(h.status()).toMatchObject({ state: "held", cidr: OLD, lastError: null, confirmedBy: SERVER });
    // one line for the change to silence, not one per exchange
    expect(h.logs.filter((l) => l.includes("no DHCP answer"))).toHaveLength(1);
  });
});

describe("confirmInterval", () => {
  const timing = { leaseSeconds: 3600, renewalSeconds: null, answeredAt: new Date() };
  it("auto is T1: option 58 when sent, else half the lease", () => {
    expect(confirmIntervalMs("auto", timing)).toBe(1_800_000);
    expect(confirmIntervalMs("auto", { ...timing, renewalSeconds: 1000 })).toBe(1_000_000);
    expect(confirmIntervalMs("off", timing)).toBeUndefined();
    expect(confirmIntervalMs(90_000, timing)).toBe(90_000);
  });
});
