import { run } from "../util/exec.js";

// `check` runs every 30 s under node-problem-detector's 10 s timeout: one `ip` read is plenty.
const IP_TIMEOUT_MS = 3000;

/**
 * The IPv4 addresses the kernel really has on each interface (`ip -j -4 addr show`), so
 * `check` and `status` report the link, not only what the agent last wrote down. An
 * interface that does not exist maps to []; undefined when `ip` itself could not tell.
 */
export async function addressesOnLinks(
  interfaces: readonly string[],
): Promise<ReadonlyMap<string, readonly string[]> | undefined> {
  const result = await run("ip", ["-j", "-4", "addr", "show"], { timeoutMs: IP_TIMEOUT_MS });
  if (result.code !== 0) return undefined;
  let links: Array<{ ifname?: string; addr_info?: Array<{ local?: string; prefixlen?: number }> }>;
  try {
    links = JSON.parse(result.stdout || "[]") as typeof links;
  } catch {
    return undefined;
  }
  const byName = new Map<string, string[]>(interfaces.map((i) => [i, []]));
  for (const link of links) {
    const list = link.ifname === undefined ? undefined : byName.get(link.ifname);
    if (!list) continue;
    for (const a of link.addr_info ?? []) {
      if (a.local !== undefined && a.prefixlen !== undefined) list.push(`${a.local}/${a.prefixlen}`);
    }
  }
  return byName;
}
