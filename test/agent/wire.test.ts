/**
 * The wire's timing rules with a fake ARP tool and fake timers (one module; the namespace
 * proof against a real second host is wire.ns.test.ts).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ConflictReport } from "../../src/agent/events.js";
import { Scheduler } from "../../src/agent/scheduler.js";
import { ANNOUNCE_INTERVAL_MS, DEFEND_INTERVAL_MS, Wire } from "../../src/agent/wire.js";
import type { Arp } from "../../src/net/arp.js";

const OURS = "02:00:00:00:00:01";
const OTHER = "02:00:00:00:00:99";
const CIDR = "198.18.0.11/22";

function setUp(onConflict: "defend" | "yield" = "defend", detect = true) {
  const sent: number[] = [];
  const answering = { macs: [] as string[] };
  const arp = {
    announce: vi.fn(async () => {
      sent.push(Date.now());
    }),
    probe: vi.fn(async () => ({ repliedMacs: [...answering.macs] })),
  } as unknown as Arp;
  const scheduler = new Scheduler();
  const events = { reports: [] as (ConflictReport | null)[], yields: [] as string[], freed: [] as string[] };
  const wire = new Wire(
    "pn0",
    { detect, interval: 5000, onConflict },
    {
      arp: async () => arp,
      scheduler,
      log: () => undefined,
      observer: {},
      now: () => new Date(),
      clock: () => Date.now(),
    },
    {
      conflict: (r) => events.reports.push(r),
      yield: (cidr) => events.yields.push(cidr),
      free: (cidr) => events.freed.push(cidr),
      unavailable: () => undefined,
    },
  );
  return { wire, sent, answering, events, scheduler, arp };
}

describe("Wire", () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => vi.useRealTimers());

  it("GIVEN an assert THEN 2 announcements, ANNOUNCE_INTERVAL apart, after the hold", async () => {
    const { wire, sent } = setUp("defend", false);
    wire.held({ cidr: CIDR, mac: OURS, asserted: true, origin: "dhcp" });
    expect(sent).toEqual([]); // nothing synchronous: the hold is never delayed
    await vi.advanceTimersByTimeAsync(10_000);
    expect(sent.map((t) => t - 1_000_000)).toEqual([0, ANNOUNCE_INTERVAL_MS]);
  });

  it("GIVEN 1000 asserts in 10 s THEN announcements stay one per ANNOUNCE_INTERVAL", async () => {
    const { wire, sent } = setUp("defend", false);
    for (let i = 0; i < 1000; i++) {
      wire.held({ cidr: CIDR, mac: OURS, asserted: true, origin: "static" });
      await vi.advanceTimersByTimeAsync(10);
    }
    await vi.advanceTimersByTimeAsync(10_000);
    // 10 s of asserts, then the last ANNOUNCE_NUM: 0, 2, 4, 6, 8, 10, 12 s
    expect(sent.length).toBeLessThanOrEqual(7);
    for (let i = 1; i < sent.length; i++) expect(sent[i]! - sent[i - 1]!).toBeGreaterThanOrEqual(2000);
  });

  it("GIVEN a foreign reply under defend THEN reported, defended ≤ 1/10 s, cleared when it stops", async () => {
    const { wire, sent, answering, events } = setUp("defend");
    wire.held({ cidr: CIDR, mac: OURS, asserted: false, origin: "cache" });
    await vi.advanceTimersByTimeAsync(5000); // the first probe (cache: at once) and the startup announcements
    const before = sent.length;
    answering.macs = [OURS, OTHER];
    await vi.advanceTimersByTimeAsync(5000);
    expect(events.reports.at(-1)?.mac).toBe(OTHER);
    await vi.advanceTimersByTimeAsync(30_000);
    const defences = sent.slice(before);
    expect(defences.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < defences.length; i++)
      expect(defences[i]! - defences[i - 1]!).toBeGreaterThanOrEqual(DEFEND_INTERVAL_MS);
    answering.macs = [];
    await vi.advanceTimersByTimeAsync(5000);
    expect(events.reports.at(-1)).toBeNull();
    expect(events.yields).toEqual([]);
  });

  it("GIVEN a foreign reply under yield THEN a yield for that cidr, contested until a probe finds it free", async () => {
    const { wire, answering, events } = setUp("yield");
    wire.held({ cidr: CIDR, mac: OURS, asserted: true, origin: "static" });
    answering.macs = [OTHER];
    await vi.advanceTimersByTimeAsync(100);
    expect(events.yields).toEqual([CIDR]);
    expect(wire.contestedBy(CIDR)?.mac).toBe(OTHER);
    wire.released();
    await vi.advanceTimersByTimeAsync(15_000);
    expect(wire.contestedBy(CIDR)?.mac).toBe(OTHER); // still answered for: never re-taken
    answering.macs = [];
    await vi.advanceTimersByTimeAsync(5000);
    expect(wire.contestedBy(CIDR)).toBeUndefined();
    expect(events.freed).toEqual([CIDR]);
    expect(events.reports.at(-1)).toBeNull();
  });

  it("GIVEN the address moved while a probe ran THEN its answer is ignored (a reassignment is not undone)", async () => {
    const { wire, answering, events, arp } = setUp("yield");
    let release: (() => void) | undefined;
    vi.mocked(arp.probe).mockImplementationOnce(
      () => new Promise((resolve) => (release = () => resolve({ repliedMacs: [OTHER] }))),
    );
    wire.held({ cidr: CIDR, mac: OURS, asserted: true, origin: "static" });
    await vi.advanceTimersByTimeAsync(10);
    wire.held({ cidr: "198.18.0.12/22", mac: OURS, asserted: true, origin: "dhcp" });
    answering.macs = [];
    release?.();
    await vi.advanceTimersByTimeAsync(10);
    expect(events.yields).toEqual([]);
    expect(wire.contestedBy(CIDR)).toBeUndefined();
  });
});
