import { HoldfastError } from "../errors.js";
import type { DhcpAdapter } from "./lease.js";
import type { AdapterOptions } from "./exchange.js";
import { createDhclientAdapter } from "./dhclient.js";
import { createDhcpcdAdapter } from "./dhcpcd.js";
import { createUdhcpcAdapter } from "./udhcpc.js";

export type DhcpClientName = DhcpAdapter["name"];

/** `auto` takes the first installed, in this order: smallest footprint first. */
export const AUTO_ORDER: readonly DhcpClientName[] = ["udhcpc", "dhcpcd", "dhclient"];

const FACTORIES: Record<DhcpClientName, (options?: AdapterOptions) => DhcpAdapter> = {
  udhcpc: createUdhcpcAdapter,
  dhcpcd: createDhcpcdAdapter,
  dhclient: createDhclientAdapter,
};

/**
 * The adapter for a config's `dhcpClient`. A named client that is not installed, or `auto`
 * with none installed, is an error naming what would work.
 */
export async function getAdapter(
  name: DhcpClientName | "auto",
  options?: AdapterOptions,
): Promise<DhcpAdapter> {
  const candidates = name === "auto" ? AUTO_ORDER : [name];
  for (const candidate of candidates) {
    const adapter = FACTORIES[candidate](options);
    if (await adapter.available()) return adapter;
  }
  const packages = "busybox (udhcpc), dhcpcd-base (dhcpcd) or isc-dhcp-client (dhclient)";
  throw new HoldfastError(name === "auto" ? "no DHCP client installed" : "DHCP client not installed", {
    code: "failure",
    subject: name === "auto" ? AUTO_ORDER.join(", ") : name,
    details: [`install one of ${packages}, or set address.dhcpClient to one that is installed`],
  });
}
