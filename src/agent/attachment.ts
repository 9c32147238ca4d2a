import type { Attachment } from "../config/schema.js";
import type { Lease } from "../dhcp/lease.js";
import { errorMessage } from "../errors.js";
import type { Arp } from "../net/arp.js";
import type { AddressInfo, NetBackend } from "../net/backend.js";
import { identityOf, setCacheAside, writeCache, type Identity } from "./cache.js";
import { backoffDelay } from "./backoff.js";
import { Confirmer, type ConfirmExchange, type ConfirmOutcome, type ConfirmRequest } from "./confirm.js";
import { cacheEntryOf, Discovery, type HeldAddress, type LeaseRecord } from "./discovery.js";
import type { AgentObserver, AttachmentState, AttachmentStatus } from "./events.js";
import type { Logger } from "./log.js";
import {
  addressStep,
  holdStep,
  keepIfSameIdentity,
  linkStep,
  restoreEarly,
  routesStep,
  staticOrCached,
  type Asserted,
  type PassResult,
} from "./reconcile.js";
import type { Scheduler } from "./scheduler.js";
import { coalesce, isEchoOfHold, type Hint, type PendingPass, type Trigger } from "./trigger.js";
import { Wire } from "./wire.js";

export interface AttachmentDeps {
  readonly backend: NetBackend;
  readonly scheduler: Scheduler;
  readonly log: Logger;
  readonly observer: AgentObserver;
  readonly stateDir: string;
  readonly pnInterfaces: readonly string[];
  /** one DHCP exchange; reports a lease, configures nothing */
  readonly discover: (attachment: Attachment) => Promise<Lease & { client: string }>;
  /** one confirm exchange (design §3 step 6); without it the attachment never confirms */
  readonly confirm?: ConfirmExchange;
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
  private pending: PendingPass | undefined;
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
  private readonly confirmer: Confirmer;
  /** the address a reassignment moved away from: removed by the pass that holds the new one */
  private retiring: { readonly cidr: string; readonly server: string | null } | undefined;
  /** what the server said that the holder should see (a NAK, a reassignment held against it) */
  private confirmNote: string | null = null;
  /** the new address the kernel may delete (as a secondary) during a move: not a fault */
  private moveEcho: string | undefined;
  /** RFC 5227 announce/probe (design §3 step 7); it only reports, the pass alone acts on a conflict */
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
      lastConfirmedAt: null,
      confirmedBy: null,
      reassignment: null,
      conflict: null,
    };
    this.confirmer = new Confirmer(
      attachment,
      { ...deps, exchange: deps.confirm, now: this.now },
      (request, outcome) => this.confirmed(request, outcome),
    );
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

  /** After stop, events and timers that were already under way change nothing. */
  stop(): void {
    this.stopped = true;
    this.wire?.stop();
  }

  /** Schedules a reconcile; calls during a running one coalesce into one more pass. */
  trigger(trigger: Trigger, hint: Hint = {}): void {
    if (this.stopped) return;
    if (hint.deletedCidr !== undefined && hint.deletedCidr === this.moveEcho) {
      // our own move deleted it and put it back: reconcile, but do not count a re-assert
      this.moveEcho = undefined;
      hint = { ...hint, deletedCidr: undefined };
    }
    if (isEchoOfHold(hint, this.held?.cidr, this.status.state === "held")) return;
    if (this.running) {
      this.pending = coalesce(this.pending, trigger, hint);
      return;
    }
    void this.loop(trigger, hint);
  }

  private async loop(trigger: Trigger, hint: Hint): Promise<void> {
    this.running = true;
    let next: PendingPass | undefined = { trigger, hint };
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
        this.status.state === "discovering" ? this.status.lastError : this.heldError(this.confirmNote);
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

  /** The error to show while held (or while a contested address is refused), most urgent first. */
  private heldError(confirmNote: string | null): string | null {
    return this.contestError ?? this.routeError ?? confirmNote ?? this.wireNote;
  }

  /**
   * One pass, as its named steps (reconcile.ts). Later steps that act on a fresh hold (a DHCP
   * confirm, an ARP announce) belong between hold and routes, fed the hold step's `asserted`.
   */
  private async reconcile(trigger: Trigger, hint: Hint): Promise<PassResult> {
    const { backend, pnInterfaces } = this.deps;
    const restoredEarly = await restoreEarly(backend, this.name, this.held, hint);

    const link = await linkStep(
      this.name,
      this.attachment.link,
      { backend, pnInterfaces },
      this.lastLinkIndex,
    );
    if (link.kind === "waiting") {
      this.update({ state: "waiting-link", lastError: null }, `waiting for link (${link.why})`);
      return { kind: "waiting-link", why: link.why };
    }
    this.noteLink(link.created, link.recreated, link.state.link, link.parent?.name);

    const held = this.identify(identityOf(this.attachment, link.state.link, link.parent));
    if (!held) return { kind: "discovering" };
    const yielded = await this.stepAsideIfContested(held, link.state.addresses);
    if (yielded) return yielded;

    const { present, stale } = addressStep(link.state, held.cidr);
    const asserted = await holdStep(backend, this.name, held, {
      present,
      stale,
      restoredEarly,
      everHeld: this.everHeld,
      recreated: link.recreated,
      trigger,
      eventAt: hint.eventAt,
      moving: this.retiring !== undefined,
    });
    if (asserted) this.reportAsserted(asserted);
    // Wire (design §3 step 7): after the hold, never before it; announcing and probing run
    // from the scheduler, so they never delay this pass.
    this.wire?.held({
      cidr: held.cidr,
      mac: link.state.link.mac,
      asserted: asserted !== undefined,
      origin: held.origin,
    });

    this.routeError = await routesStep(backend, this.name, held.routes);
    await this.finishMove(held);
    this.reportHeld(held);
    this.keepConfirming(held);
    return { kind: "held", held, asserted };
  }

  /** Link step's bookkeeping: the log line for a VLAN we created, the metric for a re-created one. */
  private noteLink(
    created: boolean,
    recreated: boolean,
    link: { readonly index: number; readonly vlanId: number | undefined },
    parent: string | undefined,
  ): void {
    if (recreated && this.lastLinkIndex !== undefined) this.deps.observer.linkRecreated?.(this.name);
    if (created) this.deps.log(this.name, `created VLAN ${link.vlanId ?? ""} on ${parent ?? "?"}`.trim());
    this.lastLinkIndex = link.index;
  }

  /** Identity step: the address to hold for this link, or undefined while it is being discovered. */
  private identify(identity: Identity): HeldAddress | undefined {
    const kept = keepIfSameIdentity(this.held, identity);
    if (kept.changed) {
      this.deps.log(this.name, `identity changed (${JSON.stringify(identity)}), rediscovering`);
      this.retiring = undefined;
      this.confirmer.cancel();
    }
    if (!kept.held) {
      const found = staticOrCached(this.attachment, identity, this.deps.stateDir, this.now(), this.deps.log);
      const confirmedAt = found?.lease?.confirmedAt;
      if (confirmedAt)
        this.status = {
          ...this.status,
          lastConfirmedAt: confirmedAt,
          confirmedBy: found.lease?.server ?? null,
        };
      this.held = found;
    } else this.held = kept.held;
    // a contested address was refused: the next attempt waits for its timer (or the wire's "free")
    if (!this.held && !this.deps.scheduler.has(`${this.name}:contested`)) this.startDiscovery(identity);
    return this.held;
  }

  /** Report step, for a put-back address: the metric always, the log line once it had been held. */
  private reportAsserted(asserted: Asserted): void {
    const { reason, latencyMs } = asserted;
    this.deps.observer.reasserted?.(this.name, reason, latencyMs);
    this.status = { ...this.status, reasserts: this.status.reasserts + 1 };
    if (this.everHeld) {
      this.deps.log(this.name, `${asserted.what}, re-asserted ${asserted.cidr} in ${latencyMs} ms`, {
        reason,
        latencyMs,
      });
    }
  }

  /**
   * Yield step (design §3 step 7, onConflict yield): an address another host answers for is
   * given up (removed, cache set aside) and not taken again, from a lease or the config, until
   * the wire's probes find it free. Only the wire's verdict on this very cidr counts, so a
   * conflict on an address the attachment has since moved away from (a reassignment) changes
   * nothing.
   */
  private async stepAsideIfContested(
    held: HeldAddress,
    addresses: readonly AddressInfo[],
  ): Promise<PassResult | undefined> {
    const report = this.wire?.contestedBy(held.cidr);
    if (!report) return undefined;
    if (addresses.some((a) => a.cidr === held.cidr))
      await this.deps.backend.removeAddress(this.name, held.cidr);
    const movedTo = setCacheAside(this.deps.stateDir, this.name, `conflict with ${report.mac}`, this.now());
    this.held = undefined;
    this.confirmer.cancel();
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
    return { kind: "yielded", cidr: held.cidr, mac: report.mac };
  }

  /** Report step: the attachment is held (one log line when that is news). */
  private reportHeld(held: HeldAddress): void {
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
  }

  /**
   * Reassignment, step 2 (design §3 step 6, make-before-break): the new address is held (the
   * hold step above), so cache it atomically, and only then remove the old one.
   */
  private async finishMove(held: HeldAddress): Promise<void> {
    const from = this.retiring;
    if (from === undefined) return;
    if (from.cidr === held.cidr) {
      // the move was undone before it finished (a yield, then the old address offered again)
      this.retiring = undefined;
      return;
    }
    if (held.lease !== undefined) {
      try {
        writeCache(this.deps.stateDir, cacheEntryOf(this.name, { ...held, lease: held.lease }));
      } catch (error) {
        this.deps.log(this.name, `cache not written (${errorMessage(error)}); holding anyway`);
      }
    }
    await this.removeKeeping(from.cidr, held.cidr);
    this.retiring = undefined;
    this.deps.observer.reassigned?.(this.name, from.cidr, held.cidr);
    this.update(
      { state: "held", cidr: held.cidr, origin: held.origin, heldSince: this.now().toISOString() },
      `reassigned ${from.cidr} -> ${held.cidr} by ${held.lease?.server ?? from.server ?? "the DHCP server"}`,
    );
  }

  /**
   * Removes `old` without the new address ever being absent. With promote_secondaries off
   * (the kernel default), deleting a primary address deletes its secondaries too, and the new
   * address in the same prefix is one: a /32 of it keeps it on the interface meanwhile, and
   * the prefix is held again at once (no sysctl needed, which the hardened unit forbids).
   */
  private async removeKeeping(old: string, keep: string): Promise<void> {
    const { backend } = this.deps;
    const bridge = `${keep.split("/")[0] ?? ""}/32`;
    if (bridge !== keep) await backend.replaceAddress(this.name, bridge);
    this.moveEcho = keep;
    await backend.removeAddress(this.name, old);
    await backend.replaceAddress(this.name, keep);
    if (bridge !== keep) await backend.removeAddress(this.name, bridge);
  }

  /** Confirm (design §3 step 6): arms the next exchange for a DHCP or cached address. */
  private keepConfirming(held: HeldAddress): void {
    if (held.lease === undefined) return;
    this.confirmer.keep(
      { cidr: held.cidr, server: held.lease.server },
      {
        leaseSeconds: held.lease.leaseSeconds,
        renewalSeconds: held.lease.renewalSeconds,
        answeredAt: new Date(held.lease.confirmedAt ?? held.lease.discoveredAt),
      },
    );
  }

  /** What the server said about the held address. Only decides; the next pass acts. */
  private confirmed(request: ConfirmRequest, outcome: ConfirmOutcome): void {
    const held = this.held;
    if (this.stopped || held?.lease === undefined || held.cidr !== request.cidr) return;
    const at = this.now().toISOString();
    if (outcome.kind === "silent") return; // the incident: a non-event, the address stays held
    if (outcome.kind === "nak") {
      // RFC 2131 says start over; we hold on: only an address a server ACKs moves the hold
      this.noteFromServer(`confirm: NAK from ${outcome.server ?? "the DHCP server"}, no address ACKed`, null);
      return;
    }
    const { lease } = outcome;
    const record: LeaseRecord = {
      server: lease.server ?? held.lease.server,
      leaseSeconds: lease.leaseSeconds ?? held.lease.leaseSeconds,
      renewalSeconds: lease.renewalSeconds ?? null,
      discoveredAt: outcome.kind === "ack" ? held.lease.discoveredAt : at,
      confirmedAt: at,
    };
    const confirmedBy = { lastConfirmedAt: at, confirmedBy: record.server };
    if (outcome.kind === "ack") {
      this.held = { ...held, routes: lease.routes, lease: record };
      try {
        writeCache(this.deps.stateDir, cacheEntryOf(this.name, { ...this.held, lease: record }));
      } catch (error) {
        this.deps.log(this.name, `cache not written (${errorMessage(error)}); holding anyway`);
      }
      this.noteFromServer(null, null, confirmedBy);
      return;
    }
    if (this.attachment.address.source === "dhcp" && this.attachment.address.onReassign === "hold") {
      const since = this.status.reassignment?.cidr === lease.cidr ? this.status.reassignment.since : at;
      if (since === at)
        this.deps.log(
          this.name,
          `server gives ${lease.cidr} (by ${record.server ?? "?"}); holding ${held.cidr} (onReassign: hold)`,
        );
      this.noteFromServer(
        `reassigned to ${lease.cidr} by ${record.server ?? "the DHCP server"}; holding ${held.cidr} (onReassign: hold)`,
        { cidr: lease.cidr, server: record.server, since },
      );
      return;
    }
    // follow: the next pass holds the new address, caches it, then removes the old one
    this.confirmer.cancel();
    this.retiring = { cidr: held.cidr, server: record.server };
    this.held = {
      cidr: lease.cidr,
      routes: lease.routes,
      origin: "dhcp",
      identity: held.identity,
      lease: record,
    };
    this.confirmNote = null;
    this.status = { ...this.status, ...confirmedBy, reassignment: null };
    this.trigger("reassigned");
  }

  private noteFromServer(
    note: string | null,
    reassignment: AttachmentStatus["reassignment"],
    change: Partial<AttachmentStatus> = {},
  ): void {
    this.confirmNote = note;
    const lastError = this.heldError(note);
    this.update({ ...change, reassignment, lastError });
    if (change.lastConfirmedAt !== undefined)
      this.deps.observer.statusChanged?.(this.status, this.deps.allStatus());
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
