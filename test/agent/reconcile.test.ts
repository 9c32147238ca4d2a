/** Each step of a reconcile pass, alone, against the in-memory kernel. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
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

  it("takes a static address without reading a cache, and misses on an empty state dir", () => {
    const stateDir = mkdtempSync(join(tmpdir(), "hf-reconcile-"));
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
      eventAt: performance.now(),
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
