import { join } from "node:path";
import type { Attachment } from "../config/schema.js";
import { DiscoveryTimeout, type Lease } from "../dhcp/lease.js";
import { errorMessage } from "../errors.js";
import type { RouteSpec } from "../net/backend.js";
import { backoffDelay } from "./backoff.js";
import { writeCache, type CacheEntry, type Identity } from "./cache.js";
import type { AddressOrigin, AgentObserver } from "./events.js";
import type { Logger } from "./log.js";
import type { Scheduler } from "./scheduler.js";

/** What a server said about a DHCP (or cached) address, as the cache keeps it. */
export interface LeaseRecord {
  readonly server: string | null;
  readonly leaseSeconds: number | null;
  /** T1 (option 58) when the server sent it; not cached */
  readonly renewalSeconds: number | null;
  readonly discoveredAt: string;
  readonly confirmedAt: string | null;
}

/** The address an attachment holds, wherever it came from. */
export interface HeldAddress {
  readonly cidr: string;
  readonly routes: readonly RouteSpec[];
  readonly origin: AddressOrigin;
  readonly identity: Identity;
  /** absent for a static address */
  readonly lease?: LeaseRecord;
}

/** The cache entry for a held DHCP address (design §4.3). */
export function cacheEntryOf(iface: string, held: HeldAddress & { lease: LeaseRecord }): CacheEntry {
  return {
    version: 1,
    interface: iface,
    identity: held.identity,
    cidr: held.cidr,
    routes: [...held.routes],
    source: "dhcp",
    server: held.lease.server,
    leaseSeconds: held.lease.leaseSeconds,
    discoveredAt: held.lease.discoveredAt,
    confirmedAt: held.lease.confirmedAt,
  };
}

export interface DiscoveryDeps {
  readonly discover: (attachment: Attachment) => Promise<Lease & { client: string }>;
  readonly observer: AgentObserver;
  readonly log: Logger;
  readonly scheduler: Scheduler;
  readonly stateDir: string;
  readonly now: () => Date;
}

export interface DiscoveryCallbacks {
  /** a lease arrived and is cached */
  readonly discovered: (held: HeldAddress) => void;
  /** an attempt failed; the next one waits for the backoff */
  readonly failed: (message: string) => void;
  /** the backoff has passed: reconcile, which starts the next attempt if still needed */
  readonly retry: () => void;
}

// First retry after about a second; IPAM usually catches up within a few.
const DISCOVERY_BASE_MS = 1000;

/**
 * Discovery for one attachment: one exchange at a time, the lease cached before it is used,
 * and capped exponential backoff with jitter between failed attempts, forever (IPAM lag).
 */
export class Discovery {
  private inFlight = false;
  private attempt = 0;
  // Cleared by the backoff timer itself, not by comparing clocks: a timer may fire a
  // millisecond before Date.now() says it is due, and a retry must never be lost.
  private backingOff = false;

  constructor(
    private readonly attachment: Attachment,
    private readonly deps: DiscoveryDeps,
    private readonly callbacks: DiscoveryCallbacks,
  ) {}

  /** Starts one exchange unless one is under way or the backoff has not passed yet. */
  maybeStart(identity: Identity): void {
    if (this.inFlight || this.backingOff) return;
    this.inFlight = true;
    void this.once(identity);
  }

  private get name(): string {
    return this.attachment.interface;
  }

  private async once(identity: Identity): Promise<void> {
    try {
      const lease = await this.deps.discover(this.attachment);
      this.deps.observer.discoveryAttempt?.(this.name, "ok");
      const held = {
        cidr: lease.cidr,
        routes: lease.routes,
        origin: "dhcp" as const,
        identity,
        lease: {
          server: lease.server ?? null,
          leaseSeconds: lease.leaseSeconds ?? null,
          renewalSeconds: lease.renewalSeconds ?? null,
          discoveredAt: this.deps.now().toISOString(),
          confirmedAt: null,
        },
      };
      try {
        writeCache(this.deps.stateDir, cacheEntryOf(this.name, held));
      } catch (error) {
        // The address is right even if it cannot be remembered: hold it, say why the next
        // start will have to discover again.
        this.deps.log(this.name, `cache not written (${errorMessage(error)}); holding anyway`);
      }
      const after = this.attempt > 0 ? ` after ${this.attempt + 1} attempts` : "";
      this.deps.log(this.name, `discovered ${lease.cidr} via ${lease.client}${after}`, {
        server: lease.server ?? null,
      });
      this.attempt = 0;
      this.inFlight = false;
      this.callbacks.discovered(held);
    } catch (error) {
      this.deps.observer.discoveryAttempt?.(
        this.name,
        error instanceof DiscoveryTimeout ? "timeout" : "error",
      );
      const delay = backoffDelay(this.attempt, {
        baseMs: DISCOVERY_BASE_MS,
        maxMs: this.attachment.discovery.maxBackoff,
      });
      if (this.attempt === 0)
        this.deps.log(this.name, `discovery: ${errorMessage(error)}; retrying with backoff`);
      this.attempt++;
      this.inFlight = false;
      this.backingOff = true;
      this.deps.scheduler.set(`${this.name}:discovery`, delay, () => {
        this.backingOff = false;
        this.callbacks.retry();
      });
      this.callbacks.failed(errorMessage(error));
    }
  }
}

/**
 * One DHCP exchange for an attachment with the configured client (`auto`: the first one
 * installed). Lease and pid files live in `<runDir>/dhcp/<interface>`, never the system's.
 */
export function discoverWith(runDir: string) {
  return async (attachment: Attachment): Promise<Lease & { client: string }> => {
    if (attachment.address.source !== "dhcp") throw new Error("static attachments are not discovered");
    // the DHCP clients' adapters (and node:fs/promises) load at the first exchange, not
    // before the first hold from the cache
    const { getAdapter } = await import("../dhcp/select.js");
    const adapter = await getAdapter(attachment.address.dhcpClient);
    const lease = await adapter.discover(attachment.interface, {
      timeoutMs: attachment.discovery.attemptTimeout,
      workDir: join(runDir, "dhcp", attachment.interface),
    });
    return { ...lease, client: adapter.name };
  };
}
