/** Namespace tests need root (ip netns, raw DHCP sockets); CI runs as root. */
export const isRoot: boolean = process.getuid?.() === 0;

/** A skipped root-only suite must be impossible to miss in the output. */
export function warnSkipped(what: string): void {
  console.warn(
    `\n*** SKIPPED: ${what} needs root (namespaces, Kea, DHCP clients); run the tests as root ***\n`,
  );
}
