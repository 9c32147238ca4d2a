import { readFileSync } from "node:fs";

/** linux/capability.h */
export const CAP_SYS_ADMIN = 21;

/**
 * Whether this process holds a capability in its effective set, from the CapEff line of
 * /proc/self/status (status text injectable for tests). Unreadable or absent: false.
 */
export function hasEffectiveCapability(capability: number, status?: string): boolean {
  let text = status;
  if (text === undefined) {
    try {
      text = readFileSync("/proc/self/status", "utf8");
    } catch {
      return false;
    }
  }
  const hex = /^CapEff:\s*([0-9a-fA-F]+)\s*$/m.exec(text)?.[1];
  if (hex === undefined) return false;
  return ((BigInt(`0x${hex}`) >> BigInt(capability)) & BigInt(1)) === BigInt(1);
}
