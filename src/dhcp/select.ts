import type { DhcpClientName } from "../config/schema.js";
import { HoldfastError } from "../errors.js";
import type { DhcpAdapter } from "./lease.js";
import type { AdapterOptions } from "./exchange.js";
import { createDhclientAdapter } from "./dhclient.js";
import { createDhcpcdAdapter } from "./dhcpcd.js";
import { createUdhcpcAdapter } from "./udhcpc.js";

export type { DhcpClientName };

/** `auto` takes the first installed, in this order: smallest footprint first. */
export const AUTO_ORDER: readonly DhcpClientName[] = ["udhcpc", "dhcpcd", "dhclient"];

/** How the adapter for each client is made. */
export type AdapterFactories = Readonly<Record<DhcpClientName, (options?: AdapterOptions) => DhcpAdapter>>;

const FACTORIES: AdapterFactories = {
  udhcpc: createUdhcpcAdapter,
  dhcpcd: createDhcpcdAdapter,
  dhclient: createDhclientAdapter,
};

export interface SelectOptions extends AdapterOptions {
  /**
   * Makes the candidate adapters (tests pass adapters whose `available()` they control).
   * @default the real adapters
   */
  readonly factories?: AdapterFactories;
}

/**
 * The adapter for a config's `dhcpClient`. A named client that is not installed, or `auto`
 * with none installed, is an error naming what would work.
 */
export async function getAdapter(
  name: DhcpClientName | "auto",
  options?: SelectOptions,
): Promise<DhcpAdapter> {
  const factories = options?.factories ?? FACTORIES;
  const candidates = name === "auto" ? AUTO_ORDER : [name];
  for (const candidate of candidates) {
    const adapter = factories[candidate](options);
    if (await adapter.available()) return adapter;
  }
  const packages = "busybox (udhcpc), dhcpcd-base (dhcpcd) or isc-dhcp-client (dhclient)";
  throw new HoldfastError(name === "auto" ? "no DHCP client installed" : "DHCP client not installed", {
    code: "failure",
    subject: name === "auto" ? AUTO_ORDER.join(", ") : name,
    details: [`install one of ${packages}, or set address.dhcpClient to one that is installed`],
  });
}
