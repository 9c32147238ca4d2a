import type { ConflictSpec } from "../config/schema.js";
import { errorMessage } from "../errors.js";
import type { Arp } from "../net/arp.js";
import type { AddressOrigin, AgentObserver, ConflictReport } from "./events.js";
import type { Logger } from "./log.js";
import type { Scheduler } from "./scheduler.js";
import { monotonicMs } from "../util/clock.js";

// RFC 5227 §1.1: announcements after an address is (re)taken, and how far apart.
export const ANNOUNCE_NUM = 2;
export const ANNOUNCE_INTERVAL_MS = 2000;
// RFC 5227 §1.1 / §2.4(c): a defending host announces at most once per DEFEND_INTERVAL.
export const DEFEND_INTERVAL_MS = 10_000;

export interface WireDeps {
  /** the ARP tool, looked up once per agent; undefined: none installed */
  readonly arp: () => Promise<Arp | undefined>;
  readonly scheduler: Scheduler;
  readonly log: Logger;
  readonly observer: AgentObserver;
  readonly now: () => Date;
  /** monotonic ms, for the rate limits @default monotonicMs */
  readonly clock?: () => number;
}

/** What the wire tells its attachment's controller. It never writes to the kernel itself. */
export interface WireCallbacks {
  /** the conflict report changed (null: cleared) */
  readonly conflict: (report: ConflictReport | null) => void;
  /** onConflict yield: drop `cidr`; a request about an address no longer held is to be ignored */
  readonly yield: (cidr: string, mac: string) => void;
  /** a contested address is free again (no foreign reply): it may be taken */
  readonly free: (cidr: string) => void;
  /** why detection cannot run (null: it can, or it is off) */
  readonly unavailable: (note: string | null) => void;
}

/** What a reconcile pass that ended held tells the wire. */
export interface HeldNotice {
  readonly cidr: string;
  /** the interface's MAC: a reply from it is our own */
  readonly mac: string;
  /** this pass put the address in (first hold, restore, re-created link, reassignment) */
  readonly asserted: boolean;
  readonly origin: AddressOrigin;
}

export const ARP_UNAVAILABLE =
  "conflict detection unavailable: no arping (install iputils-arping, or busybox with arping)";

const ipOf = (cidr: string): string => cidr.split("/")[0] ?? cidr;

/**
 * One attachment's ARP work (design §3 step 7, RFC 5227): announce after every assert,
 * probe the held address, judge replies. Everything here runs after the hold, from the
 * agent's scheduler; nothing here is awaited by a reconcile pass.
 */
export class Wire {
  /** the held cidr the wire judges; replies about any other address are stale */
  private cidr: string | undefined;
  private ownMac = "";
  private announcesLeft = 0;
  private lastAnnounceAt = Number.NEGATIVE_INFINITY;
  private lastDefendAt = Number.NEGATIVE_INFINITY;
  private announcing = false;
  private probing = false;
  private report: ConflictReport | null = null;
  /** the address given up under yield, and who answers for it */
  private contested: { cidr: string; report: ConflictReport } | undefined;
  private toolMissingSaid = false;
  private failureSaid: string | undefined;
  private stopped = false;
  private readonly clock: () => number;

  constructor(
    private readonly iface: string,
    private readonly spec: ConflictSpec,
    private readonly deps: WireDeps,
    private readonly callbacks: WireCallbacks,
  ) {
    this.clock = deps.clock ?? monotonicMs;
  }

  private key(purpose: string): string {
    return `${this.iface}:wire-${purpose}`;
  }

  /** Called by every reconcile pass that ends with the address held. Cheap and idempotent. */
  held(notice: HeldNotice): void {
    if (this.stopped) return;
    this.ownMac = notice.mac.toLowerCase();
    const first = notice.cidr !== this.cidr;
    if (first) {
      this.cidr = notice.cidr;
      this.setReport(null);
      if (this.spec.detect) {
        // right after the first hold of an address nobody just handed us (cache, static)
        const delay = notice.origin === "dhcp" ? this.spec.interval : 0;
        this.deps.scheduler.set(this.key("probe"), delay, () => this.probeTick());
      }
    }
    if (notice.asserted || first) this.announce(ANNOUNCE_NUM);
  }

  /** The address is no longer held (yielded, identity changed): stop judging it. */
  released(): void {
    this.cidr = undefined;
    this.announcesLeft = 0;
    this.deps.scheduler.cancel(this.key("announce"));
    this.deps.scheduler.cancel(this.key("defend"));
    if (this.contested === undefined) {
      this.deps.scheduler.cancel(this.key("probe"));
      this.setReport(null);
    }
  }

  /** Who still answers for `cidr`, when it was given up under yield and nobody has seen it free since. */
  contestedBy(cidr: string): ConflictReport | undefined {
    return this.contested?.cidr === cidr ? this.contested.report : undefined;
  }

  stop(): void {
    this.stopped = true;
    for (const purpose of ["announce", "probe", "defend"]) this.deps.scheduler.cancel(this.key(purpose));
  }

  /** Queues `count` announcements, never closer together than ANNOUNCE_INTERVAL (no storm). */
  private announce(count: number): void {
    this.announcesLeft = Math.max(this.announcesLeft, count);
    this.pumpAnnouncements();
  }

  private pumpAnnouncements(): void {
    if (this.stopped || this.announcesLeft <= 0 || this.announcing) return;
    if (this.deps.scheduler.has(this.key("announce"))) return;
    const wait = Math.max(0, this.lastAnnounceAt + ANNOUNCE_INTERVAL_MS - this.clock());
    this.deps.scheduler.set(this.key("announce"), wait, () => void this.sendAnnouncement());
  }

  private async sendAnnouncement(): Promise<void> {
    const cidr = this.cidr;
    if (cidr === undefined || this.stopped) return;
    this.announcing = true;
    this.announcesLeft--;
    this.lastAnnounceAt = this.clock();
    try {
      const arp = await this.tool();
      if (arp) {
        await arp.announce(this.iface, ipOf(cidr));
        this.deps.observer.announced?.(this.iface);
        this.failureSaid = undefined;
      }
    } catch (error) {
      // Most often the address was deleted again this very moment (arping cannot bind to
      // it): the announcement is still owed, at the next slot, so the count is not spent.
      this.announcesLeft++;
      this.sayFailure(`announcement failed: ${errorMessage(error)}`);
    } finally {
      this.announcing = false;
    }
    this.pumpAnnouncements();
  }

  /** The periodic probe: of the held address, and of the one given up while it is contested. */
  private probeTick(): void {
    if (this.stopped) return;
    const subjects = [...new Set([this.cidr, this.contested?.cidr])].filter((c) => c !== undefined);
    if (subjects.length === 0) return;
    this.deps.scheduler.set(this.key("probe"), this.spec.interval, () => this.probeTick());
    // a probe run still under way (no reply takes up to 4 s) makes this one skip, never overlap
    if (!this.probing) void this.probeAll(subjects);
  }

  private async probeAll(subjects: readonly string[]): Promise<void> {
    this.probing = true;
    try {
      for (const cidr of subjects) await this.probe(cidr);
    } finally {
      this.probing = false;
    }
  }

  private async probe(cidr: string): Promise<void> {
    let foreign: string | undefined;
    try {
      const arp = await this.tool();
      if (!arp) return;
      const { repliedMacs } = await arp.probe(this.iface, ipOf(cidr));
      foreign = repliedMacs.find((mac) => mac !== this.ownMac);
      this.failureSaid = undefined;
    } catch (error) {
      this.sayFailure(`probe failed: ${errorMessage(error)}`);
      return;
    }
    if (this.stopped) return;
    if (cidr === this.cidr) this.judgeHeld(cidr, foreign);
    else if (cidr === this.contested?.cidr) this.judgeContested(cidr, foreign);
    // else: the address changed while the probe ran (a reassignment): the answer is stale
  }

  private judgeHeld(cidr: string, foreign: string | undefined): void {
    if (foreign === undefined) {
      if (this.report !== null) this.deps.log(this.iface, `conflict over: no other host answers for ${cidr}`);
      this.setReport(null);
      return;
    }
    const report =
      this.report?.mac === foreign ? this.report : { mac: foreign, since: this.deps.now().toISOString() };
    if (this.spec.onConflict === "yield") {
      this.deps.log(this.iface, `conflict: ${foreign} also answers for ${cidr}; yielding it`, {
        mac: foreign,
      });
      this.contested = { cidr, report };
      this.setReport(report);
      this.callbacks.yield(cidr, foreign);
      return;
    }
    if (this.report?.mac !== foreign) {
      this.deps.log(this.iface, `conflict: ${foreign} also answers for ${cidr}; defending it`, {
        mac: foreign,
      });
    }
    this.setReport(report);
    this.defend();
  }

  /**
   * RFC 5227 §2.4(c): one announcement, at most once per DEFEND_INTERVAL. A defence that is
   * not due yet is owed, not dropped: the other host may have announced after our last one
   * (neighbours now send to it), so it goes out as soon as the interval allows, if the
   * conflict is still reported then.
   */
  private defend(): void {
    const wait = this.lastDefendAt + DEFEND_INTERVAL_MS - this.clock();
    if (wait <= 0) {
      this.lastDefendAt = this.clock();
      this.announce(1);
      return;
    }
    if (this.deps.scheduler.has(this.key("defend"))) return;
    this.deps.scheduler.set(this.key("defend"), wait, () => {
      if (this.report !== null && this.cidr !== undefined && this.contested === undefined) this.defend();
    });
  }

  private judgeContested(cidr: string, foreign: string | undefined): void {
    if (foreign !== undefined) return;
    this.deps.log(this.iface, `conflict over: no other host answers for ${cidr}; it may be taken again`);
    this.contested = undefined;
    if (this.cidr === undefined) {
      this.setReport(null);
      this.deps.scheduler.cancel(this.key("probe"));
    }
    this.callbacks.free(cidr);
  }

  private setReport(report: ConflictReport | null): void {
    if (report === this.report) return;
    if (report === null) this.deps.scheduler.cancel(this.key("defend"));
    this.report = report;
    this.callbacks.conflict(report);
  }

  private async tool(): Promise<Arp | undefined> {
    const arp = await this.deps.arp();
    // the agent logs the missing tool once; each attachment says it in its status
    if (!arp && !this.toolMissingSaid) {
      this.toolMissingSaid = true;
      this.callbacks.unavailable(ARP_UNAVAILABLE);
    }
    return arp;
  }

  /** One log line per kind of failure, not one per tick. */
  private sayFailure(message: string): void {
    const kind = message.replace(/\d+/g, "#");
    if (this.failureSaid === kind) return;
    this.failureSaid = kind;
    this.deps.log(this.iface, message);
  }
}
