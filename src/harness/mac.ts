/**
 * Deterministic, locally administered unicast MACs for lab interfaces: the first octet 0x02
 * sets the "locally administered" bit (IEEE 802 §8.2.2) and clears multicast; 0x68 0x66 is
 * "hf". Kea reservations by MAC stand in for IPAM, so a node keeps its MAC across link
 * re-creation and the lab knows each node's address before it asks.
 */
const LAB_OUI = "02:68:66";

function octet(value: number): string {
  return value.toString(16).padStart(2, "0");
}

/** MAC of the index-th node's pn0 (index from 0). */
export function nodeMac(index: number): string {
  if (!Number.isInteger(index) || index < 0 || index > 0xffff)
    throw new Error(`node index out of range: ${index}`);
  return `${LAB_OUI}:00:${octet(index >> 8)}:${octet(index & 0xff)}`;
}

/** MAC of a lab infrastructure interface (dhcp server, runner): distinct from any node's. */
export function infraMac(index: number): string {
  if (!Number.isInteger(index) || index < 0 || index > 0xff)
    throw new Error(`infra index out of range: ${index}`);
  return `${LAB_OUI}:01:00:${octet(index)}`;
}
