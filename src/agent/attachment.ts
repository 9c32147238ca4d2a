import type { Attachment } from "../config/schema.js";
import type { Lease } from "../dhcp/lease.js";
import { errorMessage } from "../errors.js";
import type { NetBackend } from "../net/backend.js";
import { identityOf, type Identity } from "./cache.js";
import { backoffDelay } from "./backoff.js";
import { Discovery, type HeldAddress } from "./discovery.js";
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
  }

  /** Schedules a reconcile; calls during a running one coalesce into one more pass. */
  trigger(trigger: Trigger, hint: Hint = {}): void {
    if (this.stopped) return;
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
      const lastError = this.status.state === "discovering" ? this.status.lastError : this.routeError;
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

    const { present, stale } = addressStep(link.state, held.cidr);
    const asserted = await holdStep(backend, this.name, held, {
      present,
      stale,
      restoredEarly,
      everHeld: this.everHeld,
      recreated: link.recreated,
      trigger,
      eventAt: hint.eventAt,
    });
    if (asserted) this.reportAsserted(asserted);

    this.routeError = await routesStep(backend, this.name, held.routes);
    this.reportHeld(held);
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
    if (kept.changed)
      this.deps.log(this.name, `identity changed (${JSON.stringify(identity)}), rediscovering`);
    this.held =
      kept.held ?? staticOrCached(this.attachment, identity, this.deps.stateDir, this.now(), this.deps.log);
    if (!this.held) this.startDiscovery(identity);
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

  /** Report step: the attachment is held (one log line when that is news). */
  private reportHeld(held: HeldAddress): void {
    this.everHeld = true;
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
    if (stateChanged || before.lastError !== this.status.lastError) {
      this.deps.observer.statusChanged?.(this.status, this.deps.allStatus());
    }
  }
}
