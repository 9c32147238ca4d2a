import { mkdirSync } from "node:fs";
import { checkCacheEntry, identityOf, loadCache, writeCache, type CacheEntry } from "../agent/cache.js";
import type { Attachment, Config } from "../config/schema.js";
import type { AddressInfo, NetBackend, RouteSpec } from "../net/backend.js";
import { lowerLink } from "../net/link.js";

/**
 * Adoption, run on the node by the install script before the agent starts: an interface
 * that already carries its address (the old `dhclient -d` unit's lease, a hand-set one)
 * gets that address written into the agent's cache under the identity the agent itself
 * computes, and the address stops expiring. The agent then holds it from its first start
 * without any DHCP, and the old client can be stopped without a moment with no address.
 */

export type AdoptOutcome =
  | { readonly interface: string; readonly kind: "adopted"; readonly cidr: string }
  | { readonly interface: string; readonly kind: "cached"; readonly cidr: string }
  | { readonly interface: string; readonly kind: "skipped"; readonly why: string };

export interface AdoptDeps {
  readonly backend: NetBackend;
  readonly now?: () => Date;
}

// RFC 3927: a link-local address is never the PN address (the PN's DHCP server answers from one)
const LINK_LOCAL = /^169\.254\./;

/** A lease (it expires) is what a DHCP client holds; prefer it over anything else on the link. */
function pickAddress(addresses: readonly AddressInfo[]): AddressInfo | undefined {
  const candidates = addresses.filter((a) => !LINK_LOCAL.test(a.cidr));
  return candidates.find((a) => a.validLft !== "forever") ?? candidates[0];
}

/** What adopting one attachment would do: an outcome already, or a cache entry to write. */
type AdoptStep =
  AdoptOutcome | { readonly interface: string; readonly kind: "write"; readonly entry: CacheEntry };

async function planOne(attachment: Attachment, config: Config, deps: AdoptDeps): Promise<AdoptStep> {
  const name = attachment.interface;
  if (attachment.address.source === "static")
    return { interface: name, kind: "skipped", why: "static in the config" };
  const state = await deps.backend.readInterface(name);
  if (!state) return { interface: name, kind: "skipped", why: "no such interface" };
  const parent = attachment.link.kind === "vlan" ? await lowerLink(deps.backend, state.link) : undefined;
  const identity = identityOf(attachment, state.link, parent);
  const now = deps.now?.() ?? new Date();
  const cached = loadCache(config.stateDir, name, identity, now);
  const address = pickAddress(state.addresses);
  // The live lease wins over an older cache: holding a stale address would let the real one expire.
  if (cached.kind === "hit" && (!address || address.cidr === cached.entry.cidr)) {
    return { interface: name, kind: "cached", cidr: cached.entry.cidr };
  }
  if (!address) return { interface: name, kind: "skipped", why: "no address to adopt" };
  // the routes the lease installed through this interface (listRoutes leaves out the kernel's
  // own prefix route), so the agent keeps them too
  const routes: readonly RouteSpec[] = await deps.backend.listRoutes(name);
  const entry: CacheEntry = {
    version: 1,
    interface: name,
    identity,
    cidr: address.cidr,
    routes: [...routes],
    source: "dhcp",
    server: null,
    leaseSeconds: null,
    discoveredAt: now.toISOString(),
  };
  return { interface: name, kind: "write", entry: checkCacheEntry(config.stateDir, entry) };
}

/**
 * Adopts every attachment's live address that the cache does not know yet. All or nothing
 * as far as it can be: every interface is read and every entry checked before the first
 * file is written, so a problem with pn1 leaves pn0 untouched too (and the install script
 * then stops no client).
 */
export async function adoptAddresses(config: Config, deps: AdoptDeps): Promise<AdoptOutcome[]> {
  const steps: AdoptStep[] = [];
  for (const attachment of config.attachments) steps.push(await planOne(attachment, config, deps));
  const outcomes: AdoptOutcome[] = [];
  for (const step of steps) {
    if (step.kind !== "write") {
      outcomes.push(step);
      continue;
    }
    mkdirSync(config.stateDir, { recursive: true, mode: 0o700 });
    writeCache(config.stateDir, step.entry);
    // cache first, then the lifetime: whichever of the two happens, the agent will hold it
    await deps.backend.replaceAddress(step.interface, step.entry.cidr);
    outcomes.push({ interface: step.interface, kind: "adopted", cidr: step.entry.cidr });
  }
  return outcomes;
}

/** One line per attachment, interface first (style point 7). */
export function describeOutcome(outcome: AdoptOutcome): string {
  switch (outcome.kind) {
    case "adopted":
      return `${outcome.interface}: adopted ${outcome.cidr} (cached; it no longer expires)`;
    case "cached":
      return `${outcome.interface}: already cached (${outcome.cidr})`;
    case "skipped":
      return `${outcome.interface}: nothing to adopt (${outcome.why})`;
  }
}
