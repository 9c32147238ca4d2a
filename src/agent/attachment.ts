import type { Attachment } from "../config/schema.js";
import type { Lease } from "../dhcp/lease.js";
import { errorMessage } from "../errors.js";
import type { AddressInfo, NetBackend } from "../net/backend.js";
import { ensureLink } from "../net/link.js";
import type { Arp } from "../net/arp.js";
import { ensureRoutes } from "../net/route.js";
import { identityOf, loadCache, sameIdentity, setCacheAside, type Identity } from "./cache.js";
import { backoffDelay } from "./backoff.js";
import { Discovery, type HeldAddress } from "./discovery.js";
import type { AgentObserver, AttachmentState, AttachmentStatus, ReassertReason } from "./events.js";
import type { Logger } from "./log.js";
import type { Scheduler } from "./scheduler.js";
import { Wire } from "./wire.js";

/** Why a reconcile runs. Events, timers and startup only schedule; reconcile alone changes things. */
export type Trigger = "startup" | "event" | "periodic" | "discovered" | "retry";

/** What the event that triggered a reconcile said; only a hint, the kernel's state decides. */
export interface Hint {
  /** performance.now() when the event arrived, for the re-assert latency */
  readonly eventAt?: number;
  /** an address the event reported deleted */
  readonly deletedCidr?: string;
  /** an address the event reported present with infinite lifetimes (our own hold, echoed) */
  readonly permanentCidr?: string;
}

export interface AttachmentDeps {
  readonly backend: NetBackend;
  readonly scheduler: Scheduler;
  readonly log: Logger;
  readonly observer: AgentObserver;
  readonly stateDir: string;
  readonly pnInterfaces: readonly string[];
  /** one DHCP exchange; reports a lease, configures nothing */
  readonly discover: (attachment: Attachment) => Promise<Lease & { client: string }>;
  /** all attachments' status, for observers that write the whole file */
  readonly allStatus: () => readonly AttachmentStatus[];
  readonly now?: () => Date;
  /** the ARP tool for announcements and conflict probes (RFC 5227); absent: no wire work at all */
  readonly arp?: () => Promise<Arp | undefined>;
}

// A failed reconcile (an `ip` call that errored) is retried sooner than the periodic pass.
const RETRY_MS = 1000;

/** One attachment's level-triggered reconcile loop (design §3). */
export class AttachmentController {
  private status: AttachmentStatus;
  private held: HeldAddress | undefined;
  private running = false;
  private pending: { trigger: Trigger; hint: Hint } | undefined;
  private readonly discovery: Discovery;
  /** consecutive failed passes, for the retry backoff */
  private failures = 0;
  private stopped = false;
  /** a lease route the last pass could not add, shown as lastError while held */
  private routeError: string | null = null;
  private lastLinkIndex: number | undefined;
  private everHeld = false;
  /** the initial state is an assumption until the first pass has logged what it found */
  private announced = false;
  private readonly now: () => Date;
  /** RFC 5227 announce/probe; it only reports, reconcile alone acts on a conflict */
  private readonly wire: Wire | undefined;
  /** why conflict detection cannot run, shown as lastError while held */
  private wireNote: string | null = null;
  /** why a contested address is not held, shown as lastError */
  private contestError: string | null = null;
  private reofferSaid = false;

  constructor(
    readonly attachment: Attachment,
    private readonly deps: AttachmentDeps,
  ) {
    this.now = deps.now ?? (() => new Date());
    this.status = {
      interface: attachment.interface,
      state: "waiting-link",
      cidr: null,
      origin: null,
      heldSince: null,
      lastReconcileAt: null,
      reasserts: 0,
      lastError: null,
      conflict: null,
    };
    this.discovery = new Discovery(
      attachment,
      { ...deps, now: this.now },
      {
        discovered: (held) => {
          this.held = held;
          this.trigger("discovered");
        },
        failed: (message) => this.update({ lastError: message }),
        retry: () => this.trigger("retry"),
      },
    );
    this.wire =
      deps.arp &&
      new Wire(
        attachment.interface,
        attachment.conflict,
        { arp: deps.arp, scheduler: deps.scheduler, log: deps.log, observer: deps.observer, now: this.now },
        {
          conflict: (conflict) => this.update({ conflict }),
          // the next pass finds the held address contested and gives it up
          yield: () => this.trigger("retry"),
          free: () => {
            this.deps.scheduler.cancel(`${this.name}:contested`);
            this.trigger("retry");
          },
          unavailable: (note) => {
            this.wireNote = note;
            this.trigger("retry");
          },
        },
      );
  }

  get current(): AttachmentStatus {
    return this.status;
  }

  private get name(): string {
    return this.attachment.interface;
  }

  /** Schedules a reconcile; calls during a running one coalesce into one more pass. */
  /** After stop, events and timers that were already under way change nothing. */
  stop(): void {
    this.stopped = true;
    this.wire?.stop();
  }

  trigger(trigger: Trigger, hint: Hint = {}): void {
    if (this.stopped) return;
    // The kernel echoing the hold we asked for says nothing is left to fix for that address;
    // skipping it halves the `ip` calls of a deletion storm. Every other event reconciles.
    if (
      hint.permanentCidr !== undefined &&
      hint.permanentCidr === this.held?.cidr &&
      this.status.state === "held"
    ) {
      return;
    }
    if (this.running) {
      const before = this.pending?.hint ?? {};
      const merged: Trigger = this.pending?.trigger === "event" || trigger === "event" ? "event" : trigger;
      this.pending = {
        trigger: merged,
        hint: {
          eventAt: before.eventAt ?? hint.eventAt,
          deletedCidr: before.deletedCidr ?? hint.deletedCidr,
        },
      };
      return;
    }
    void this.loop(trigger, hint);
  }

  private async loop(trigger: Trigger, hint: Hint): Promise<void> {
    this.running = true;
    let next: { trigger: Trigger; hint: Hint } | undefined = { trigger, hint };
    while (next) {
      this.pending = undefined;
      await this.reconcileOnce(next.trigger, next.hint);
      next = this.pending;
    }
    this.running = false;
    this.deps.scheduler.set(`${this.name}:periodic`, this.attachment.reconcileInterval, () =>
      this.trigger("periodic"),
    );
  }

  private async reconcileOnce(trigger: Trigger, hint: Hint): Promise<void> {
    try {
      await this.reconcile(trigger, hint);
      // discovery reports its own errors; otherwise the pass's outcome is the error to show
      const lastError =
        this.status.state === "discovering"
          ? this.status.lastError
          : (this.contestError ?? this.routeError ?? this.wireNote);
      if (this.status.lastError !== lastError) this.update({ lastError });
      this.failures = 0;
    } catch (error) {
      this.update({ state: "failed", lastError: errorMessage(error) }, `failed: ${errorMessage(error)}`);
      // A failure that persists (an EEXIST VLAN, a refused address) is retried with backoff
      // up to the periodic interval, not hammered every second forever.
      const delay = backoffDelay(this.failures++, {
        baseMs: RETRY_MS,
        maxMs: this.attachment.reconcileInterval,
      });
      this.deps.scheduler.set(`${this.name}:retry`, delay, () => this.trigger("retry"));
    }
    this.status = { ...this.status, lastReconcileAt: this.now().toISOString() };
    this.deps.observer.reconciled?.(this.status, this.deps.allStatus());
  }

  private async reconcile(trigger: Trigger, hint: Hint): Promise<void> {
    const { backend, pnInterfaces } = this.deps;
    // Fast path: the event named our address as deleted, so put it back at once, through the
    // backend's long-lived batch process when it has one (no fork), before reading anything.
    // `replace` is idempotent; the full pass below reads the real state and fixes the rest.
    let restoredEarly = false;
    if (this.held && hint.deletedCidr === this.held.cidr) {
      try {
        if (!backend.replaceAddressSoon?.(this.name, this.held.cidr)) {
          await backend.replaceAddress(this.name, this.held.cidr);
        }
        restoredEarly = true;
      } catch {
        // the link itself is gone (deleting a link deletes its addresses first): the full pass waits for it
      }
    }
    const link = await ensureLink(this.name, this.attachment.link, { backend, pnInterfaces });
    if (link.kind === "waiting") {
      this.update({ state: "waiting-link", lastError: null }, `waiting for link (${link.why})`);
      return;
    }
    const { state, created, parent } = link;
    const recreated =
      created || (this.lastLinkIndex !== undefined && this.lastLinkIndex !== state.link.index);
    if (recreated && this.lastLinkIndex !== undefined) this.deps.observer.linkRecreated?.(this.name);
    if (created)
      this.deps.log(this.name, `created VLAN ${state.link.vlanId ?? ""} on ${parent?.name ?? "?"}`.trim());
    this.lastLinkIndex = state.link.index;

    const identity = identityOf(this.attachment, state.link, parent);
    if (this.held && !sameIdentity(this.held.identity, identity)) {
      this.deps.log(this.name, `identity changed (${JSON.stringify(identity)}), rediscovering`);
      this.held = undefined;
    }
    this.held ??= this.fromCacheOrStatic(identity);
    if (this.held && (await this.stepAsideIfContested(this.held, state.addresses))) return;
    if (!this.held) {
      // a contested address was refused: the next attempt waits for its timer
      if (!this.deps.scheduler.has(`${this.name}:contested`)) this.startDiscovery(identity);
      return;
    }

    const held = this.held;
    const present = state.addresses.find((a) => a.cidr === held.cidr);
    const stale = !present || present.validLft !== "forever" || present.preferredLft !== "forever";
    if (stale || restoredEarly) {
      const started = hint.eventAt ?? performance.now();
      if (stale) await backend.replaceAddress(this.name, held.cidr);
      const reason: ReassertReason = !this.everHeld
        ? "startup"
        : recreated
          ? "link-recreated"
          : trigger === "periodic"
            ? "periodic"
            : "deleted";
      const latencyMs = Math.round((performance.now() - started) * 10) / 10;
      this.deps.observer.reasserted?.(this.name, reason, latencyMs);
      this.status = { ...this.status, reasserts: this.status.reasserts + 1 };
      if (this.everHeld) {
        const what =
          present && !restoredEarly
            ? "address lifetime changed"
            : reason === "link-recreated"
              ? "link re-created"
              : "address deleted";
        this.deps.log(this.name, `${what}, re-asserted ${held.cidr} in ${latencyMs} ms`, {
          reason,
          latencyMs,
        });
      }
    }
    try {
      await ensureRoutes(backend, this.name, held.routes);
      this.routeError = null;
    } catch (error) {
      // The address is held; a lease route the kernel refuses is reported, not a reason to
      // call the attachment failed (the next pass tries the route again).
      this.routeError = `route: ${errorMessage(error)}`;
    }
    this.everHeld = true;
    this.contestError = null;
    this.reofferSaid = false;
    if (this.status.state !== "held" || this.status.cidr !== held.cidr) {
      this.update(
        {
          state: "held",
          cidr: held.cidr,
          origin: held.origin,
          heldSince: this.now().toISOString(),
          lastError: null,
        },
        `held ${held.cidr} (from ${held.origin})`,
      );
    }
    // After the hold, never before it: announcing and probing run from the scheduler.
    this.wire?.held({
      cidr: held.cidr,
      mac: state.link.mac,
      asserted: stale || restoredEarly,
      origin: held.origin,
    });
  }

  /**
   * onConflict yield (design §3 step 7): an address another host answers for is given up
   * (removed, cache set aside) and not taken again, from a lease or the config, until the
   * wire's probes find it free. Only the wire's verdict on this very cidr counts, so a
   * conflict on an address the attachment has since moved away from changes nothing.
   */
  private async stepAsideIfContested(held: HeldAddress, addresses: readonly AddressInfo[]): Promise<boolean> {
    const report = this.wire?.contestedBy(held.cidr);
    if (!report) return false;
    if (addresses.some((a) => a.cidr === held.cidr))
      await this.deps.backend.deleteAddress(this.name, held.cidr);
    const movedTo = setCacheAside(this.deps.stateDir, this.name, `conflict with ${report.mac}`, this.now());
    this.held = undefined;
    this.wire?.released();
    const again = this.contestError !== null;
    this.contestError = `${held.cidr} is answered for by ${report.mac}; not taken while it is`;
    // the wire's probes free it sooner; this only asks the server again now and then
    const retryMs = Math.max(this.attachment.conflict.interval, this.attachment.discovery.maxBackoff);
    if (!this.deps.scheduler.has(`${this.name}:contested`))
      this.deps.scheduler.set(`${this.name}:contested`, retryMs, () => this.trigger("retry"));
    // one line for the yield and one for the first time it is offered back, not one per pass
    if (!again || !this.reofferSaid) {
      this.reofferSaid = again;
      const what = again
        ? `${held.cidr} offered again, still answered for by ${report.mac}; not taken`
        : `yielded ${held.cidr} to ${report.mac}`;
      this.deps.log(this.name, `${what}${movedTo ? `; cache moved to ${movedTo}` : ""}`, { mac: report.mac });
    }
    this.update({
      state: this.attachment.address.source === "dhcp" ? "discovering" : "failed",
      cidr: null,
      origin: null,
      heldSince: null,
      lastError: this.contestError,
    });
    return true;
  }

  private fromCacheOrStatic(identity: Identity): HeldAddress | undefined {
    const { address } = this.attachment;
    if (address.source === "static") {
      return { cidr: address.cidr, routes: [], origin: "static", identity };
    }
    const loaded = loadCache(this.deps.stateDir, this.name, identity, this.now());
    if (loaded.kind === "set-aside") {
      this.deps.log(this.name, `cache set aside: ${loaded.reason}; moved to ${loaded.movedTo}`, {
        movedTo: loaded.movedTo,
      });
      return undefined;
    }
    if (loaded.kind === "miss") return undefined;
    return { cidr: loaded.entry.cidr, routes: loaded.entry.routes, origin: "cache", identity };
  }

  private startDiscovery(identity: Identity): void {
    if (this.status.state !== "discovering") {
      this.update({ state: "discovering", cidr: null, origin: null, heldSince: null }, "discovering");
    }
    this.discovery.maybeStart(identity);
  }

  /** Applies a status change; logs one line when the state (or held address) changes. */
  private update(change: Partial<AttachmentStatus>, message?: string): void {
    const before = this.status;
    this.status = { ...before, ...change };
    const stateChanged =
      !this.announced || before.state !== this.status.state || before.cidr !== this.status.cidr;
    if (stateChanged && message) {
      this.announced = true;
      this.deps.log(this.name, message, { state: this.status.state as AttachmentState });
    }
    if (
      stateChanged ||
      before.lastError !== this.status.lastError ||
      before.conflict !== this.status.conflict
    ) {
      this.deps.observer.statusChanged?.(this.status, this.deps.allStatus());
    }
  }
}
