/**
 * Quoting for POSIX sh, shared by everything that writes shell: the DHCP hooks and the
 * rendered install scripts. A single-quoted word is never expanded.
 */

/** `it's` -> `'it'\''s'`: one shell word, taken literally. */
export function shellQuote(value: string): string {
  if (value.includes("\0")) throw new Error("internal: a shell word cannot hold a NUL byte");
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
