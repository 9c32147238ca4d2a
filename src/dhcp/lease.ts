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

export interface DhcpAdapter {
  readonly name: DhcpClientName;
  /** true when the client binary is installed */
  available(): Promise<boolean>;
  /**
   * One exchange in its own process group, bounded by timeoutMs, reaped afterwards.
   * Throws DiscoveryTimeout when no server answered, another Error otherwise.
   */
  discover(iface: string, options: DiscoverOptions): Promise<Lease>;
}
