/**
 * The steps of one reconcile pass, in the order the controller runs them:
 *
 *   fast path → link → identity → (yield) → address → hold → (wire) → routes → report
 *
 * Each step takes what it needs as arguments and returns what it found, so a reader (or a
 * test) can run one alone. The controller (attachment.ts) runs them in sequence, keeps what
 * must outlive a pass, logs, and tells the observers. Only these steps write to the kernel;
 * events and timers only schedule a pass. The yield step (giving up an address another host
 * answers for) and the wire step (telling wire.ts what was held, which schedules the ARP
 * announcements and probes) live in the controller, since they keep state across passes.
 */
import type { Attachment, LinkSpec } from "../config/schema.js";
import { errorMessage } from "../errors.js";
import type { AddressInfo, InterfaceState, LinkInfo, NetBackend, RouteSpec } from "../net/backend.js";
import { ensureLink, type LinkContext } from "../net/link.js";
import { ensureRoutes } from "../net/route.js";
import { loadCache, sameIdentity, type Identity } from "./cache.js";
import type { HeldAddress } from "./discovery.js";
import type { ReassertReason } from "./events.js";
import type { Logger } from "./log.js";
import type { Hint, Trigger } from "./trigger.js";
import { monotonicMs } from "../util/clock.js";

/**
 * What the hold step did when it had to put the address back. Later steps of the same pass
 * (a DHCP confirm, an ARP announce after a hold) take this, so they run in this pass, after
 * the hold, and never need a loop of their own that writes to the kernel.
 */
export interface Asserted {
  readonly cidr: string;
  readonly reason: ReassertReason;
  /** from the event (or from the start of the hold step when no event) to the address back */
  readonly latencyMs: number;
  /** what happened to the address, for the log line: "address deleted", … */
  readonly what: string;
}

/** What one pass ended in. */
export type PassResult =
  | { readonly kind: "waiting-link"; readonly why: string }
  | { readonly kind: "discovering" }
  /** onConflict yield: another host answers for `cidr`, so it was given up (design §3 step 7) */
  | { readonly kind: "yielded"; readonly cidr: string; readonly mac: string }
  | { readonly kind: "held"; readonly held: HeldAddress; readonly asserted: Asserted | undefined };

/**
 * Fast path, before the pass reads anything: the event named our address as deleted, so put
 * it back at once, through the backend's long-lived batch process when it has one (no fork,
 * no read first). This is the latency design: the address is back before the pass has asked
 * the kernel what it looks like. `replace` is idempotent, and the full pass after it reads
 * the real state and fixes whatever else is wrong. Returns whether the restore was sent.
 */
export async function restoreEarly(
  backend: NetBackend,
  name: string,
  held: HeldAddress | undefined,
  hint: Hint,
): Promise<boolean> {
  if (!held || hint.deletedCidr !== held.cidr) return false;
  try {
    if (!backend.replaceAddressSoon?.(name, held.cidr)) await backend.replaceAddress(name, held.cidr);
    return true;
  } catch {
    // the link itself is gone (deleting a link deletes its addresses first): the link step waits for it
    return false;
  }
}

export type LinkStep =
  | { readonly kind: "waiting"; readonly why: string }
  | {
      readonly kind: "ready";
      readonly state: InterfaceState;
      readonly parent: LinkInfo | undefined;
      /** this pass created the VLAN */
      readonly created: boolean;
      /** created now, or its ifindex changed since the last pass: someone re-created it */
      readonly recreated: boolean;
    };

/** Link: the attachment's link exists and is up (a VLAN is created when missing). */
export async function linkStep(
  name: string,
  spec: LinkSpec,
  ctx: LinkContext,
  lastLinkIndex: number | undefined,
): Promise<LinkStep> {
  const link = await ensureLink(name, spec, ctx);
  if (link.kind === "waiting") return link;
  const recreated = link.created || (lastLinkIndex !== undefined && lastLinkIndex !== link.state.link.index);
  return { ...link, recreated };
}

/**
 * Identity: the address held so far is kept only while the link is the same one (MAC, VLAN,
 * parent); returns undefined when it changed, so the address is found again for the new one.
 */
export function keepIfSameIdentity(
  held: HeldAddress | undefined,
  identity: Identity,
): { readonly held: HeldAddress | undefined; readonly changed: boolean } {
  if (held && !sameIdentity(held.identity, identity)) return { held: undefined, changed: true };
  return { held, changed: false };
}

/**
 * Identity, when nothing is held: a static address first (it needs no cache), else the cache
 * when it is valid for this identity; undefined means discover.
 */
export function staticOrCached(
  attachment: Attachment,
  identity: Identity,
  stateDir: string,
  now: Date,
  log: Logger,
): HeldAddress | undefined {
  const { address } = attachment;
  if (address.source === "static") return { cidr: address.cidr, routes: [], origin: "static", identity };
  const loaded = loadCache(stateDir, attachment.interface, identity, now);
  if (loaded.kind === "set-aside") {
    // movedTo is null when the cache could not be moved (a read-only stateDir): ignored in memory
    const where = loaded.movedTo === null ? "" : `; moved to ${loaded.movedTo}`;
    log(attachment.interface, `cache set aside: ${loaded.reason}${where}`, { movedTo: loaded.movedTo });
    return undefined;
  }
  if (loaded.kind === "miss") return undefined;
  const { entry } = loaded;
  return {
    cidr: entry.cidr,
    routes: entry.routes,
    origin: "cache",
    identity,
    lease: {
      server: entry.server,
      leaseSeconds: entry.leaseSeconds,
      renewalSeconds: null,
      discoveredAt: entry.discoveredAt,
      confirmedAt: entry.confirmedAt ?? null,
    },
  };
}

/** Address: how the held address looks in the state the link step read (no read of its own). */
export function addressStep(
  state: InterfaceState,
  cidr: string,
): { readonly present: AddressInfo | undefined; readonly stale: boolean } {
  const present = state.addresses.find((a) => a.cidr === cidr);
  // A finite lifetime (a DHCP client's lease) would let the kernel drop the address: re-hold it.
  const stale = !present || present.validLft !== "forever" || present.preferredLft !== "forever";
  return { present, stale };
}

/** Why the address had to be put back, for the metric's `reason` label. */
export function reassertReason(facts: {
  readonly everHeld: boolean;
  readonly recreated: boolean;
  readonly trigger: Trigger;
}): ReassertReason {
  if (!facts.everHeld) return "startup";
  if (facts.recreated) return "link-recreated";
  if (facts.trigger === "periodic") return "periodic";
  return "deleted";
}

/** What happened to the address, as the log line says it. */
export function reassertWording(facts: {
  /** the pass found the address (with a finite lifetime) */
  readonly present: boolean;
  readonly restoredEarly: boolean;
  readonly reason: ReassertReason;
}): string {
  if (facts.present && !facts.restoredEarly) return "address lifetime changed";
  if (facts.reason === "link-recreated") return "link re-created";
  return "address deleted";
}

/**
 * Hold: `ip addr replace … valid_lft forever` when the address is missing or finite. A
 * restore the fast path already sent is counted here too, once the pass has confirmed the
 * link. Returns what was asserted, or undefined when the address was already held.
 */
export async function holdStep(
  backend: NetBackend,
  name: string,
  held: HeldAddress,
  facts: {
    readonly present: AddressInfo | undefined;
    readonly stale: boolean;
    readonly restoredEarly: boolean;
    readonly everHeld: boolean;
    readonly recreated: boolean;
    readonly trigger: Trigger;
    /** monotonicMs() of the event, when an event started the pass */
    readonly eventAt: number | undefined;
    /** a reassignment is under way: the new address goes in first, and that is no re-assert */
    readonly moving?: boolean;
  },
): Promise<Asserted | undefined> {
  if (facts.moving) {
    // make-before-break (design §3 step 6): the new address first, with infinite lifetimes
    if (facts.stale) await backend.replaceAddress(name, held.cidr);
    return undefined;
  }
  if (!facts.stale && !facts.restoredEarly) return undefined;
  const started = facts.eventAt ?? monotonicMs();
  if (facts.stale) await backend.replaceAddress(name, held.cidr);
  const reason = reassertReason(facts);
  const latencyMs = Math.round((monotonicMs() - started) * 10) / 10;
  const what = reassertWording({
    present: facts.present !== undefined,
    restoredEarly: facts.restoredEarly,
    reason,
  });
  return { cidr: held.cidr, reason, latencyMs, what };
}

/**
 * Routes: the lease's routes (option 121) on the link. Returns the error to show, or null.
 * The address is held either way; a route the kernel refuses is reported, not a reason to
 * call the attachment failed (the next pass tries the route again).
 */
export async function routesStep(
  backend: NetBackend,
  name: string,
  routes: readonly RouteSpec[],
): Promise<string | null> {
  try {
    await ensureRoutes(backend, name, routes);
    return null;
  } catch (error) {
    return `route: ${errorMessage(error)}`;
  }
}
