/** Each step of a reconcile pass, alone, against the in-memory kernel. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { writeCache, type CacheEntry } from "../../src/agent/cache.js";
import type { HeldAddress } from "../../src/agent/discovery.js";
import {
  addressStep,
  holdStep,
  keepIfSameIdentity,
  linkStep,
  reassertReason,
  reassertWording,
  restoreEarly,
  routesStep,
  staticOrCached,
} from "../../src/agent/reconcile.js";
import { coalesce, isEchoOfHold } from "../../src/agent/trigger.js";
import { parseConfig } from "../../src/config/load.js";
import { FakeBackend } from "../helpers/fake-backend.js";
import { scratchDir } from "../helpers/scratch.js";
import { monotonicMs } from "../../src/util/clock.js";

const MAC = "02:00:00:00:00:0a";
const CIDR = "198.18.0.10/22";
const HELD: HeldAddress = {
  cidr: CIDR,
  routes: [],
  origin: "cache",
  identity: { kind: "existing", mac: MAC },
};
const FOREVER = { validLft: "forever", preferredLft: "forever" } as const;

const attachment = (extra: Record<string, unknown> = {}) =>
  parseConfig({ version: 1, attachments: [{ interface: "pn0", ...extra }] }).attachments[0]!;

describe("fast path", () => {
  it("sends the restore through the batch process when the event names the held address", async () => {
    const backend = new FakeBackend();
    backend.addLink("pn0", MAC);
    expect(await restoreEarly(backend, "pn0", HELD, { deletedCidr: CIDR })).toBe(true);
    expect(backend.ops, "one batched replace, no read").toEqual([
      `batch addr replace ${CIDR} dev pn0 valid_lft forever preferred_lft forever`,
    ]);
    expect(backend.reads).toBe(0);
  });

  it("does nothing for another address or when nothing is held", async () => {
    const backend = new FakeBackend();
    backend.addLink("pn0", MAC);
    expect(await restoreEarly(backend, "pn0", HELD, { deletedCidr: "198.18.0.11/22" })).toBe(false);
    expect(await restoreEarly(backend, "pn0", undefined, { deletedCidr: CIDR })).toBe(false);
    expect(backend.ops).toEqual([]);
  });
});

describe("fast path without the batch process", () => {
  /** a backend whose batch process is not running: replaceAddressSoon declines */
  class NoBatch extends FakeBackend {
    override replaceAddressSoon(): boolean {
      return false;
    }
  }

  it("falls back to one awaited replace when the batch process declines", async () => {
    const backend = new NoBatch();
    backend.addLink("pn0", MAC);
    expect(await restoreEarly(backend, "pn0", HELD, { deletedCidr: CIDR })).toBe(true);
    expect(backend.ops).toEqual([`addr replace ${CIDR} dev pn0 valid_lft forever preferred_lft forever`]);
  });

  it("reports no restore, and throws nothing, when the kernel refuses it (the link is gone)", async () => {
    const backend = new NoBatch();
    backend.failNext = "addr replace";
    expect(await restoreEarly(backend, "pn0", HELD, { deletedCidr: CIDR })).toBe(false);
  });
});

describe("echo skip and coalescing", () => {
  it("skips only the echo of the address being held", () => {
    expect(isEchoOfHold({ permanentCidr: CIDR }, CIDR, true)).toBe(true);
    expect(isEchoOfHold({ permanentCidr: CIDR }, CIDR, false), "not yet held").toBe(false);
    expect(isEchoOfHold({ permanentCidr: "198.18.0.11/22" }, CIDR, true), "another address").toBe(false);
    expect(isEchoOfHold({ deletedCidr: CIDR }, CIDR, true), "a deletion").toBe(false);
  });

  it("keeps an event's time and deleted address through later triggers", () => {
    const first = coalesce(undefined, "event", { eventAt: 5, deletedCidr: CIDR });
    expect(coalesce(first, "periodic", { eventAt: 9 })).toEqual({
      trigger: "event",
      hint: { eventAt: 5, deletedCidr: CIDR },
    });
    expect(coalesce(undefined, "retry", {}).trigger).toBe("retry");
  });
});

describe("link step", () => {
  it("calls a link with a new ifindex re-created", async () => {
    const backend = new FakeBackend();
    const link = backend.addLink("pn0", MAC);
    const same = await linkStep("pn0", { kind: "existing" }, { backend, pnInterfaces: ["pn0"] }, link.index);
    const other = await linkStep(
      "pn0",
      { kind: "existing" },
      { backend, pnInterfaces: ["pn0"] },
      link.index - 1,
    );
    expect(same).toMatchObject({ kind: "ready", created: false, recreated: false });
    expect(other).toMatchObject({ kind: "ready", created: false, recreated: true });
  });

  it("waits for an interface that does not exist", async () => {
    const step = await linkStep(
      "pn0",
      { kind: "existing" },
      { backend: new FakeBackend(), pnInterfaces: [] },
      3,
    );
    expect(step).toEqual({ kind: "waiting", why: "interface does not exist" });
  });
});

describe("identity step", () => {
  it("drops the held address when the MAC changed", () => {
    expect(keepIfSameIdentity(HELD, { kind: "existing", mac: MAC })).toEqual({ held: HELD, changed: false });
    expect(keepIfSameIdentity(HELD, { kind: "existing", mac: "02:00:00:00:00:0b" })).toEqual({
      held: undefined,
      changed: true,
    });
  });

  it("takes a valid cache as the address, with its lease, and logs a set-aside one with where it went", () => {
    const stateDir = scratchDir("hf-reconcile-");
    const identity = { kind: "existing", mac: MAC } as const;
    const entry: CacheEntry = {
      version: 1,
      interface: "pn0",
      identity,
      cidr: CIDR,
      routes: [{ dst: "198.18.4.0/24", via: "198.18.0.1" }],
      source: "dhcp",
      server: "169.254.169.254",
      leaseSeconds: 10,
      discoveredAt: "2026-06-04T09:00:00.000Z",
    };
    writeCache(stateDir, { ...entry, confirmedAt: "2026-06-04T09:30:00.000Z" });
    const logs: string[] = [];
    const log = (_subject: string, message: string) => void logs.push(message);
    expect(staticOrCached(attachment(), identity, stateDir, new Date(), log)).toEqual({
      cidr: CIDR,
      routes: entry.routes,
      origin: "cache",
      identity,
      lease: {
        server: "169.254.169.254",
        leaseSeconds: 10,
        renewalSeconds: null,
        discoveredAt: "2026-06-04T09:00:00.000Z",
        confirmedAt: "2026-06-04T09:30:00.000Z",
      },
    });
    writeCache(stateDir, entry);
    expect(
      staticOrCached(attachment(), identity, stateDir, new Date(), log)?.lease?.confirmedAt,
      "an older cache",
    ).toBeNull();
    expect(logs).toEqual([]);

    writeFileSync(join(stateDir, "pn0.json"), "{ not json");
    const now = new Date("2026-06-04T10:00:00.000Z");
    expect(staticOrCached(attachment(), identity, stateDir, now, log)).toBeUndefined();
    expect(logs).toEqual([
      `cache set aside: not valid JSON; moved to ${join(stateDir, "pn0.json.corrupt-2026-06-04T10-00-00-000Z")}`,
    ]);
  });

  it("takes a static address without reading a cache, and misses on an empty state dir", () => {
    const stateDir = scratchDir("hf-reconcile-");
    const identity = { kind: "existing", mac: MAC } as const;
    const log = () => undefined;
    const fixed = attachment({ address: { source: "static", cidr: CIDR } });
    expect(staticOrCached(fixed, identity, stateDir, new Date(), log)).toEqual({
      cidr: CIDR,
      routes: [],
      origin: "static",
      identity,
    });
    expect(staticOrCached(attachment(), identity, stateDir, new Date(), log)).toBeUndefined();
  });
});

describe("address and hold steps", () => {
  const state = (
    addresses: { cidr: string; validLft: number | "forever"; preferredLft: number | "forever" }[],
  ) => ({
    link: {
      name: "pn0",
      index: 1,
      up: true,
      mac: MAC,
      kind: undefined,
      vlanId: undefined,
      parent: undefined,
    },
    addresses,
  });

  it("calls a missing or finite address stale", () => {
    expect(addressStep(state([]), CIDR).stale).toBe(true);
    expect(addressStep(state([{ cidr: CIDR, validLft: 10, preferredLft: 10 }]), CIDR).stale).toBe(true);
    expect(addressStep(state([{ cidr: CIDR, ...FOREVER }]), CIDR).stale).toBe(false);
  });

  it("calls an address stale when only its preferred lifetime is finite", () => {
    const finite = { cidr: CIDR, validLft: "forever", preferredLft: 10 } as const;
    expect(addressStep(state([finite]), CIDR)).toEqual({ present: finite, stale: true });
    expect(addressStep(state([{ cidr: "198.18.0.11/22", ...FOREVER }]), CIDR)).toEqual({
      present: undefined,
      stale: true,
    });
  });

  it("during a move, puts the new address in without counting a re-assert", async () => {
    const backend = new FakeBackend();
    backend.addLink("pn0", MAC);
    const facts = {
      present: undefined,
      restoredEarly: true,
      everHeld: true,
      recreated: false,
      trigger: "reassigned",
      eventAt: undefined,
      moving: true,
    } as const;
    expect(await holdStep(backend, "pn0", HELD, { ...facts, stale: true })).toBeUndefined();
    expect(backend.ops).toEqual([`addr replace ${CIDR} dev pn0 valid_lft forever preferred_lft forever`]);
    expect(await holdStep(backend, "pn0", HELD, { ...facts, stale: false })).toBeUndefined();
    expect(backend.ops, "already there: nothing more").toHaveLength(1);
  });

  it("measures the latency from the event, in tenths of a millisecond", async () => {
    const backend = new FakeBackend();
    backend.addLink("pn0", MAC);
    const asserted = await holdStep(backend, "pn0", HELD, {
      present: undefined,
      stale: true,
      restoredEarly: false,
      everHeld: true,
      recreated: false,
      trigger: "event",
      eventAt: monotonicMs() - 1000,
    });
    const latencyMs = asserted?.latencyMs ?? Number.NaN;
    // generous upper bound: a busy machine may pause the test between the two clocks
    expect(latencyMs, "at least the 1000 ms since the event").toBeGreaterThanOrEqual(1000);
    expect(latencyMs).toBeLessThan(1000 + 30_000);
    expect(Math.abs(latencyMs * 10 - Math.round(latencyMs * 10)), `${latencyMs}`).toBeLessThan(1e-6);
  });

  it("names the reason and the wording", () => {
    expect(reassertReason({ everHeld: false, recreated: true, trigger: "event" })).toBe("startup");
    expect(reassertReason({ everHeld: true, recreated: true, trigger: "periodic" })).toBe("link-recreated");
    expect(reassertReason({ everHeld: true, recreated: false, trigger: "periodic" })).toBe("periodic");
    expect(reassertReason({ everHeld: true, recreated: false, trigger: "event" })).toBe("deleted");
    expect(reassertWording({ present: true, restoredEarly: false, reason: "deleted" })).toBe(
      "address lifetime changed",
    );
    expect(reassertWording({ present: true, restoredEarly: true, reason: "deleted" })).toBe(
      "address deleted",
    );
    expect(reassertWording({ present: false, restoredEarly: false, reason: "link-recreated" })).toBe(
      "link re-created",
    );
  });

  it("replaces a stale address and reports what it asserted", async () => {
    const backend = new FakeBackend();
    backend.addLink("pn0", MAC);
    const facts = {
      present: undefined,
      restoredEarly: false,
      everHeld: true,
      recreated: false,
      eventAt: undefined,
    };
    const asserted = await holdStep(backend, "pn0", HELD, { ...facts, stale: true, trigger: "event" });
    expect(asserted).toMatchObject({ cidr: CIDR, reason: "deleted", what: "address deleted" });
    expect(backend.addresses.get("pn0")).toEqual([{ cidr: CIDR, ...FOREVER }]);
    expect(
      await holdStep(backend, "pn0", HELD, { ...facts, stale: false, trigger: "event" }),
    ).toBeUndefined();
  });

  it("counts a fast-path restore without a second replace", async () => {
    const backend = new FakeBackend();
    backend.addLink("pn0", MAC);
    const asserted = await holdStep(backend, "pn0", HELD, {
      present: { cidr: CIDR, ...FOREVER },
      stale: false,
      restoredEarly: true,
      everHeld: true,
      recreated: false,
      trigger: "event",
      eventAt: monotonicMs(),
    });
    expect(asserted?.reason).toBe("deleted");
    expect(backend.ops, "the fast path already sent it").toEqual([]);
  });
});

describe("routes step", () => {
  it("returns the refused route as the error to show", async () => {
    const backend = new FakeBackend();
    backend.addLink("pn0", MAC);
    backend.failNext = "route replace";
    const error = await routesStep(backend, "pn0", [{ dst: "198.18.4.0/24", via: "198.18.0.1" }]);
    expect(error).toMatch(/^route: RTNETLINK answers: Operation not permitted/);
    expect(await routesStep(backend, "pn0", [{ dst: "198.18.4.0/24", via: "198.18.0.1" }])).toBeNull();
  });
});
