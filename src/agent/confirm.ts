import { join } from "node:path";
import type { Attachment, ConfirmInterval, DhcpClientName } from "../config/schema.js";
import { DiscoveryTimeout, type ConfirmAnswer, type DhcpAdapter, type Lease } from "../dhcp/lease.js";
import { errorMessage, HoldfastError } from "../errors.js";
import { backoffDelay } from "./backoff.js";
import type { AgentObserver, ConfirmResult } from "./events.js";
import type { Logger } from "./log.js";
import type { Scheduler } from "./scheduler.js";

/**
 * Design §3 step 6: while a DHCP or cached address is held, one exchange every
 * confirmInterval asks the server for it. This module only schedules those exchanges and
 * hands what the server said back to the controller; the controller decides, and its
 * reconcile pass alone changes the kernel (make-before-break on a reassignment).
 */

/** The held address the next exchange asks for. */
export interface ConfirmRequest {
  readonly cidr: string;
  /** the server that gave it (option 54), when known */
  readonly server: string | null;
}

/** One confirm exchange with the client that does it; configures nothing. */
export type ConfirmExchange = (
  attachment: Attachment,
  request: ConfirmRequest,
) => Promise<ConfirmAnswer & { client: string }>;

/** What the server said, as the controller acts on it. */
export type ConfirmOutcome =
  | { readonly kind: "ack"; readonly lease: Lease }
  | { readonly kind: "reassigned"; readonly lease: Lease }
  | { readonly kind: "nak"; readonly server: string | undefined }
  | { readonly kind: "silent"; readonly result: "timeout" | "error"; readonly message: string };

/** What the interval of `auto` is derived from. */
export interface LeaseTiming {
  readonly leaseSeconds: number | null;
  readonly renewalSeconds: number | null;
  /** when a server last answered for the held address (discovery or an ACK) */
  readonly answeredAt: Date;
}

// With no lease time known (an old cache), confirm this often until an ACK tells.
const UNKNOWN_LEASE_INTERVAL_MS = 300_000;
const MIN_INTERVAL_MS = 1000;
// A silent server is asked again after about a second, backing off up to the interval.
const RETRY_BASE_MS = 1000;

/**
 * The confirm period: a configured duration, or `auto` = T1 (RFC 2131 §4.4.5): option 58
 * when the server sent it, else half the lease. undefined when confirming is off.
 */
export function confirmIntervalMs(setting: ConfirmInterval, timing: LeaseTiming): number | undefined {
  if (setting === "off") return undefined;
  if (typeof setting === "number") return setting;
  const seconds = timing.renewalSeconds ?? (timing.leaseSeconds === null ? null : timing.leaseSeconds / 2);
  return seconds === null ? UNKNOWN_LEASE_INTERVAL_MS : Math.max(MIN_INTERVAL_MS, Math.round(seconds * 1000));
}

/** The server's answer as one of the outcomes of design §3 step 6. */
export function classify(request: ConfirmRequest, answer: ConfirmAnswer): ConfirmOutcome {
  if (answer.kind === "nak") return { kind: "nak", server: answer.server };
  return answer.lease.cidr === request.cidr
    ? { kind: "ack", lease: answer.lease }
    : { kind: "reassigned", lease: answer.lease };
}

const resultOf = (outcome: ConfirmOutcome): ConfirmResult =>
  outcome.kind === "silent" ? outcome.result : outcome.kind;

export interface ConfirmerDeps {
  readonly scheduler: Scheduler;
  readonly log: Logger;
  readonly observer: AgentObserver;
  readonly exchange: ConfirmExchange | undefined;
  readonly now: () => Date;
}

/** One attachment's confirm timer: one exchange at a time, keyed `<interface>:confirm`. */
export class Confirmer {
  private inFlight = false;
  private failures = 0;
  /** the address the armed or running exchange asks for */
  private asked: string | undefined;
  private intervalMs: number | undefined;
  /** the last outcome's kind, so only a change is logged */
  private lastKind: ConfirmOutcome["kind"] | undefined;

  constructor(
    private readonly attachment: Attachment,
    private readonly deps: ConfirmerDeps,
    private readonly decide: (request: ConfirmRequest, outcome: ConfirmOutcome) => void,
  ) {}

  private get name(): string {
    return this.attachment.interface;
  }

  private get key(): string {
    return `${this.name}:confirm`;
  }

  /**
   * Called at the end of every pass that holds `request.cidr`: arms the next exchange unless
   * one is armed or running for that address already. Cheap, so a pass may call it always.
   */
  keep(request: ConfirmRequest, timing: LeaseTiming): void {
    const { address } = this.attachment;
    if (address.source !== "dhcp" || this.deps.exchange === undefined) return;
    if (this.inFlight || (this.asked === request.cidr && this.deps.scheduler.has(this.key))) return;
    const interval = confirmIntervalMs(address.confirmInterval, timing);
    this.setInterval(interval ?? 0);
    if (interval === undefined) return;
    const due = timing.answeredAt.getTime() + interval - this.deps.now().getTime();
    this.arm(request, Math.max(0, due));
  }

  /** Forgets the armed exchange (the held address changed); a running one's answer is dropped. */
  cancel(): void {
    this.deps.scheduler.cancel(this.key);
    this.asked = undefined;
  }

  private setInterval(ms: number): void {
    if (ms === this.intervalMs) return;
    this.intervalMs = ms;
    this.deps.observer.confirmInterval?.(this.name, ms / 1000);
  }

  private arm(request: ConfirmRequest, delayMs: number): void {
    this.asked = request.cidr;
    this.deps.scheduler.set(this.key, delayMs, () => void this.once(request));
  }

  private async once(request: ConfirmRequest): Promise<void> {
    const exchange = this.deps.exchange;
    if (exchange === undefined || this.attachment.address.source !== "dhcp") return;
    this.inFlight = true;
    let outcome: ConfirmOutcome;
    let answeredBy = "";
    try {
      const answer = await exchange(this.attachment, request);
      answeredBy = answer.client;
      outcome = classify(request, answer);
    } catch (error) {
      outcome = {
        kind: "silent",
        result: error instanceof DiscoveryTimeout ? "timeout" : "error",
        message: errorMessage(error),
      };
    }
    this.inFlight = false;
    // the held address changed while the exchange ran: its answer is about the past
    if (this.asked !== request.cidr) return;
    this.deps.observer.confirmAttempt?.(this.name, resultOf(outcome));
    this.logChange(request, outcome, answeredBy);
    this.decide(request, outcome);
    if (this.asked !== request.cidr) return; // the controller moved to another address
    const setting = this.attachment.address.confirmInterval;
    if (outcome.kind === "silent") {
      const ceiling = this.intervalMs ?? UNKNOWN_LEASE_INTERVAL_MS;
      this.arm(request, backoffDelay(this.failures++, { baseMs: RETRY_BASE_MS, maxMs: ceiling }));
      return;
    }
    this.failures = 0;
    const lease = outcome.kind === "nak" ? undefined : outcome.lease;
    const interval = confirmIntervalMs(setting, {
      leaseSeconds: lease?.leaseSeconds ?? null,
      renewalSeconds: lease?.renewalSeconds ?? null,
      answeredAt: this.deps.now(),
    });
    if (interval === undefined) return;
    // a NAK does not say how long anything lasts: keep the period we had
    const next = lease === undefined ? (this.intervalMs ?? interval) : interval;
    this.setInterval(next);
    this.arm(request, next);
  }

  /** One line per change of what the server says, never one per exchange. */
  private logChange(request: ConfirmRequest, outcome: ConfirmOutcome, client: string): void {
    const before = this.lastKind;
    this.lastKind = outcome.kind;
    if (before === outcome.kind && outcome.kind !== "reassigned") return;
    const { log } = this.deps;
    switch (outcome.kind) {
      case "ack":
        log(this.name, `confirmed ${request.cidr} with ${outcome.lease.server ?? "?"} via ${client}`, {
          leaseSeconds: outcome.lease.leaseSeconds ?? null,
        });
        return;
      case "nak":
        log(
          this.name,
          `confirm: NAK from ${outcome.server ?? "a server"}, no address ACKed; still holding ${request.cidr}`,
        );
        return;
      case "silent":
        log(this.name, `confirm: ${outcome.message}; still holding ${request.cidr}`);
        return;
      case "reassigned":
        return; // the controller logs what it does about it
    }
  }
}

/**
 * The client for confirm exchanges: the configured one when it can confirm, else (`auto`, or
 * a client that cannot, like dhcpcd) the first installed one that can.
 */
export async function confirmAdapter(name: DhcpClientName | "auto"): Promise<DhcpAdapter> {
  // loaded at the first confirm, after the first hold (discovery.ts says why)
  const { AUTO_ORDER, getAdapter } = await import("../dhcp/select.js");
  if (name !== "auto") {
    const configured = await getAdapter(name);
    if (configured.confirm !== undefined) return configured;
  }
  for (const candidate of AUTO_ORDER) {
    const adapter = await getAdapter(candidate).catch(() => undefined);
    if (adapter?.confirm !== undefined) return adapter;
  }
  throw new HoldfastError("no DHCP client that can confirm installed", {
    code: "failure",
    subject: name,
    details: [
      "confirming needs udhcpc (busybox) or dhclient (isc-dhcp-client); dhcpcd --test stops at the OFFER",
    ],
  });
}

/** One confirm exchange; lease and pid files in `<runDir>/dhcp/<interface>`, like discovery. */
export function confirmWith(runDir: string): ConfirmExchange {
  return async (attachment, request) => {
    if (attachment.address.source !== "dhcp") throw new Error("static attachments are not confirmed");
    const adapter = await confirmAdapter(attachment.address.dhcpClient);
    const answer = await adapter.confirm!(attachment.interface, {
      cidr: request.cidr,
      server: request.server ?? undefined,
      timeoutMs: attachment.discovery.attemptTimeout,
      workDir: join(runDir, "dhcp", attachment.interface),
    });
    return { ...answer, client: adapter.name };
  };
}
