import { lstatSync, renameSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { cidr, hostCidr, ifname, isIpv4 } from "../config/fields.js";
import type { Attachment } from "../config/schema.js";
import type { LinkInfo } from "../net/backend.js";
import { writeFileAtomic } from "../util/atomic-write.js";
import { normalizeDst } from "../net/route.js";
import { HoldfastError } from "../errors.js";
import { issueLines } from "../config/problems.js";
import { ReadFileError, readRegularFile } from "../util/read-file.js";

// A cache entry is a few hundred bytes; 64 KiB leaves room for 64 routes and refuses /dev/zero.
export const MAX_CACHE_BYTES = 64 * 1024;

/**
 * The address cache, `<stateDir>/<interface>.json` (design §4.3). It is untrusted input
 * (dhcpcd's read_lease): schema and identity are checked, and on any doubt the file is
 * set aside and the attachment rediscovers. Lease expiry is never a reason to drop it.
 */

const mac = z.string().regex(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);

export const identitySchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("vlan"), vlanId: z.number().int().min(1).max(4094), parentMac: mac }),
  z.strictObject({ kind: z.literal("existing"), mac }),
]);
export type Identity = z.infer<typeof identitySchema>;

/**
 * An attachment's identity (design §3): a VLAN's id and its parent's MAC, or the interface's
 * own MAC. A VLAN inherits its parent's MAC, so the link's own MAC stands in for a parent
 * that cannot be seen.
 */
export function identityOf(attachment: Attachment, link: LinkInfo, parent: LinkInfo | undefined): Identity {
  return attachment.link.kind === "vlan"
    ? { kind: "vlan", vlanId: attachment.link.vlanId, parentMac: (parent ?? link).mac }
    : { kind: "existing", mac: link.mac };
}

const routeSchema = z.strictObject({
  // what `ip -j route` prints (a bare host address, "0.0.0.0/0") is read in the one spelling
  dst: z.preprocess(
    (dst) => (typeof dst === "string" ? normalizeDst(dst) : dst),
    z.union([z.literal("default"), cidr]),
  ),
  via: z.string().refine(isIpv4).optional(),
  metric: z.number().int().min(0).optional(),
});

export const cacheEntrySchema = z.strictObject({
  version: z.literal(1),
  interface: ifname,
  identity: identitySchema,
  // a cache holding an address the kernel would not hold is set aside like any invalid one
  cidr: hostCidr,
  routes: z.array(routeSchema).max(64),
  source: z.enum(["dhcp", "static"]),
  server: z.string().nullable(),
  leaseSeconds: z.number().int().min(0).nullable(),
  discoveredAt: z.iso.datetime(),
  /** the server last ACKed the held address (design §3 step 6); absent in older files */
  confirmedAt: z.iso.datetime().nullable().optional(),
});
export type CacheEntry = z.infer<typeof cacheEntrySchema>;

export type CacheLoad =
  | { readonly kind: "hit"; readonly entry: CacheEntry }
  | { readonly kind: "miss" }
  | { readonly kind: "set-aside"; readonly reason: string; readonly movedTo: string | null };

export const cachePath = (stateDir: string, iface: string): string => join(stateDir, `${iface}.json`);

export const sameIdentity = (a: Identity, b: Identity): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * Files that could not be moved aside (a read-only stateDir), by path and inode/mtime: they are
 * ignored in memory, and the same file is not reported again on every pass.
 */
const ignored = new Map<string, string>();

function fileKey(path: string): string {
  try {
    const stat = lstatSync(path);
    return `${stat.dev}:${stat.ino}:${stat.mtimeMs}:${stat.size}`;
  } catch {
    return "gone";
  }
}

function setAside(path: string, reason: string, now: Date): CacheLoad {
  const movedTo = `${path}.corrupt-${now.toISOString().replace(/[:.]/g, "-")}`;
  try {
    renameSync(path, movedTo);
  } catch (error) {
    // A read-only stateDir: the bad cache stays on disk, so it is ignored in memory and the
    // attachment rediscovers all the same (the hold never waits on the disk).
    ignored.set(path, fileKey(path));
    const code = (error as NodeJS.ErrnoException).code ?? "error";
    return {
      kind: "set-aside",
      reason: `${reason}; cannot move it aside (${code}), ignoring it in memory`,
      movedTo: null,
    };
  }
  return { kind: "set-aside", reason, movedTo };
}

/**
 * Moves the cache file aside (a yielded address must not come back from it). Returns where it
 * went; undefined when there was none, or when it could not be moved (then it is ignored in
 * memory, like any cache that cannot be moved aside).
 */
export function setCacheAside(
  stateDir: string,
  iface: string,
  reason: string,
  now = new Date(),
): string | undefined {
  const path = cachePath(stateDir, iface);
  if (fileKey(path) === "gone") return undefined;
  const moved = setAside(path, reason, now);
  return moved.kind === "set-aside" ? (moved.movedTo ?? undefined) : undefined;
}

export function loadCache(stateDir: string, iface: string, identity: Identity, now = new Date()): CacheLoad {
  const path = cachePath(stateDir, iface);
  const known = ignored.get(path);
  if (known !== undefined) {
    if (known === fileKey(path)) return { kind: "miss" };
    ignored.delete(path);
  }
  let text: string;
  try {
    // never follows a symlink, never opens a FIFO or device for reading, never reads past the cap
    text = readRegularFile(path, { maxBytes: MAX_CACHE_BYTES, noFollow: true, ownedByUs: true });
  } catch (error) {
    if (error instanceof ReadFileError && error.kind === "missing") return { kind: "miss" };
    const detail = error instanceof ReadFileError ? error.detail : String(error);
    // stateDir is a file: there is no cache, and the agent reports the broken stateDir itself
    if (detail === "ENOTDIR") return { kind: "miss" };
    return setAside(path, `unreadable (${detail})`, now);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    return setAside(path, "not valid JSON", now);
  }
  const parsed = cacheEntrySchema.safeParse(document);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return setAside(
      path,
      `invalid (${first ? `${first.path.join(".") || "(top level)"}: ${first.message}` : "schema"})`,
      now,
    );
  }
  if (parsed.data.interface !== iface) return setAside(path, `written for ${parsed.data.interface}`, now);
  if (!sameIdentity(parsed.data.identity, identity)) {
    return setAside(
      path,
      `other identity (${JSON.stringify(parsed.data.identity)}, now ${JSON.stringify(identity)})`,
      now,
    );
  }
  return { kind: "hit", entry: parsed.data };
}

/** The entry as it would be written, or the HoldfastError writeCache would throw for it. */
export function checkCacheEntry(stateDir: string, entry: CacheEntry): CacheEntry {
  const path = cachePath(stateDir, entry.interface);
  const checked = cacheEntrySchema.safeParse(entry);
  // what we were about to write came from a lease or the kernel, not the user: exit 1, each
  // problem on its own line, and the file as it was
  if (!checked.success) {
    throw new HoldfastError("refusing to write an invalid cache entry", {
      code: "failure",
      subject: path,
      details: issueLines(checked.error),
      cause: checked.error,
    });
  }
  return checked.data;
}

export function writeCache(stateDir: string, entry: CacheEntry): void {
  const checked = checkCacheEntry(stateDir, entry);
  writeFileAtomic(cachePath(stateDir, entry.interface), `${JSON.stringify(checked, null, 2)}\n`, 0o600);
}
