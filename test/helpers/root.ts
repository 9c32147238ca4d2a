import { skipWhen } from "./skip.js";

/** Namespace tests need root (ip netns, raw DHCP sockets); CI runs as root. */
export const isRoot: boolean = process.getuid?.() === 0;

/** Why a root-only test cannot run here, or undefined as root; `needs` says what root is for. */
export function notRoot(needs: string): string | undefined {
  return isRoot ? undefined : `needs root (${needs}); run the tests as root`;
}

/**
 * skipWhen for a root-only file (pass `import.meta.url`): skips loudly when not root, and
 * fails the file under CI=true.
 */
export function skipUnlessRoot(file: string, needs: string): boolean {
  return skipWhen(file, notRoot(needs));
}
