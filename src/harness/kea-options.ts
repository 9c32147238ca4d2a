import type { KeaOptionData } from "./kea.js";
import { DHCP_SERVER_IP, METADATA_IP } from "./topology.js";

/**
 * RFC 3442 classless static route 169.254.169.254/32 via 198.18.0.1, as hex: width 32, the
 * four destination octets, the router. Without it a client's unicast renewal to the server
 * identifier (169.254.169.254, as on Scaleway) has no route, the renewal fails with ENETUNREACH
 * and even a healthy server looks silent: the baseline would already be the incident.
 */
export function metadataRouteOption(): KeaOptionData {
  const octets = [32, ...METADATA_IP.split(".").map(Number), ...DHCP_SERVER_IP.split(".").map(Number)];
  return {
    code: 121,
    "csv-format": false,
    data: octets.map((o) => o.toString(16).padStart(2, "0")).join(""),
  };
}

/** What the lab's Kea hands out beyond address and mask. */
export const LAB_KEA_OPTIONS: readonly KeaOptionData[] = [metadataRouteOption()];
