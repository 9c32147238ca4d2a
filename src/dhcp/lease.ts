import type { DhcpClientName } from "../config/schema.js";
import type { RouteSpec } from "../net/backend.js";

/** What one DHCP exchange reported; nothing of it has been applied to the system. */
export interface Lease {
  readonly cidr: string;
  readonly routes: readonly RouteSpec[];
  /** DHCP server identifier (option 54) */
  readonly server: string | undefined;
  /** lease time (option 51); informational only: expiry never drops a held address */
  readonly leaseSeconds: number | undefined;
  /** renewal time T1 (option 58), when the server sent it and the client reports it */
  readonly renewalSeconds?: number;
}

export interface DiscoverOptions {
  readonly timeoutMs: number;
  /** scratch dir for lease / pid files; never the system's */
  readonly workDir: string;
}

export class DiscoveryTimeout extends Error {
  constructor(iface: string, timeoutMs: number) {
    super(`no DHCP answer within ${timeoutMs} ms: ${iface}`);
    this.name = "DiscoveryTimeout";
  }
}

/**
 * What the server said when asked for the held address (design §3 step 6). Silence is not
 * an answer: it is a DiscoveryTimeout, like in discovery.
 * - `ack`: a server ACKed `lease` (the held address, or another one it now gives this identity)
 * - `nak`: a server refused the held address and none was ACKed before the deadline
 */
export type ConfirmAnswer =
  | { readonly kind: "ack"; readonly lease: Lease }
  | { readonly kind: "nak"; readonly server: string | undefined };

export interface ConfirmOptions extends DiscoverOptions {
  /** the held address, asked for with option 50 */
  readonly cidr: string;
  /** the server that gave it (option 54), when known */
  readonly server?: string | undefined;
}

export interface DhcpAdapter {
  readonly name: DhcpClientName;
  /** true when the client binary is installed */
  available(): Promise<boolean>;
  /**
   * One exchange in its own process group, bounded by timeoutMs, reaped afterwards.
   * Throws DiscoveryTimeout when no server answered, another Error otherwise.
   */
  discover(iface: string, options: DiscoverOptions): Promise<Lease>;
  /**
   * One exchange that asks the server for the held address (REQUEST or DISCOVER with option
   * 50) and, unlike discover, ends with the server's ACK, so the server's lease is renewed.
   * Same discipline as discover: configures nothing, own process group, deadline, reaped.
   * Absent when the client cannot do that (dhcpcd --test stops at the OFFER).
   */
  confirm?(iface: string, options: ConfirmOptions): Promise<ConfirmAnswer>;
}
