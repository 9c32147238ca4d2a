import type { RouteSpec } from "../net/backend.js";
import type { Lease } from "./lease.js";
import { normalizeDst } from "../net/route.js";

/**
 * Routes from a lease get a high metric so they never beat the node's own (public NIC)
 * routes; 1024 is what systemd-networkd and dhcpcd use for DHCP routes by default.
 */
export const LEASE_ROUTE_METRIC = 1024;

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function isIpv4(text: string): boolean {
  const match = IPV4.exec(text);
  return match !== null && match.slice(1).every((octet) => Number(octet) <= 255);
}

/** "255.255.252.0" -> 22; undefined for a non-contiguous or malformed mask */
export function prefixFromMask(mask: string): number | undefined {
  if (!isIpv4(mask)) return undefined;
  const bits = mask
    .split(".")
    .map((octet) => Number(octet).toString(2).padStart(8, "0"))
    .join("");
  if (!/^1*0*$/.test(bits)) return undefined;
  const firstZero = bits.indexOf("0");
  return firstZero === -1 ? 32 : firstZero;
}

function routeTo(dst: string, gateway: string): RouteSpec {
  const route: RouteSpec = { dst: normalizeDst(dst), metric: LEASE_ROUTE_METRIC };
  // RFC 3442 §3: router 0.0.0.0 means the destination is on-link
  return gateway === "0.0.0.0" ? route : { ...route, via: gateway };
}

/** "10.0.0.0/8 198.18.0.1 0.0.0.0/0 198.18.0.1" (udhcpc `staticroutes`, dhcpcd `classless_static_routes`) */
export function parseClasslessPairs(text: string): RouteSpec[] {
  const words = text.trim().split(/\s+/).filter(Boolean);
  if (words.length % 2 !== 0) throw new Error(`classless static routes: odd number of words in "${text}"`);
  const routes: RouteSpec[] = [];
  for (let i = 0; i < words.length; i += 2) {
    const [dst, gateway] = [words[i]!, words[i + 1]!];
    const [network, width] = dst.split("/");
    if (
      network === undefined ||
      !isIpv4(network) ||
      !/^\d+$/.test(width ?? "") ||
      Number(width) > 32 ||
      !isIpv4(gateway)
    ) {
      throw new Error(`classless static routes: bad pair "${dst} ${gateway}"`);
    }
    routes.push(routeTo(dst, gateway));
  }
  return routes;
}

/**
 * RFC 3442 §3 wire encoding as dhclient shows it, one decimal per byte:
 * "8 10 198 18 0 1" = width 8, significant octets 10, router 198.18.0.1.
 */
export function parseClasslessBytes(text: string): RouteSpec[] {
  const bytes = text
    .trim()
    .split(/[\s,]+/)
    .filter(Boolean)
    .map(Number);
  if (bytes.some((b) => !Number.isInteger(b) || b < 0 || b > 255))
    throw new Error(`classless static routes: bad byte in "${text}"`);
  const routes: RouteSpec[] = [];
  let i = 0;
  while (i < bytes.length) {
    const width = bytes[i]!;
    const significant = Math.ceil(width / 8);
    if (width > 32 || i + 1 + significant + 4 > bytes.length)
      throw new Error(`classless static routes: truncated at byte ${i} of "${text}"`);
    const network = [...bytes.slice(i + 1, i + 1 + significant), 0, 0, 0, 0].slice(0, 4).join(".");
    const gateway = bytes.slice(i + 1 + significant, i + 5 + significant).join(".");
    routes.push(routeTo(`${network}/${width}`, gateway));
    i += 5 + significant;
  }
  return routes;
}

export interface RawLease {
  readonly ip: string | undefined;
  /** prefix length, or a dotted mask */
  readonly prefix: string | undefined;
  readonly server: string | undefined;
  readonly leaseSeconds: string | undefined;
  /** option 58 (T1), when the client reports it */
  readonly renewalSeconds?: string | undefined;
  /** option 3, first address wins; may be a space-separated list */
  readonly routers: string | undefined;
  readonly classless: RouteSpec[] | undefined;
}

/** Validates what a client reported and turns it into a Lease. */
export function toLease(raw: RawLease, client: string): Lease {
  const ip = raw.ip ?? "";
  if (!isIpv4(ip)) throw new Error(`${client} reported no usable address: "${ip}"`);
  const prefixText = raw.prefix ?? "";
  const prefix = /^\d+$/.test(prefixText) ? Number(prefixText) : prefixFromMask(prefixText);
  if (prefix === undefined || prefix < 1 || prefix > 32)
    throw new Error(`${client} reported no usable netmask: "${prefixText}"`);
  const leaseSeconds = /^\d+$/.test(raw.leaseSeconds ?? "") ? Number(raw.leaseSeconds) : undefined;
  const server = raw.server !== undefined && isIpv4(raw.server) ? raw.server : undefined;
  const router = (raw.routers ?? "").trim().split(/\s+/)[0] ?? "";
  // RFC 3442 §1: with classless routes present the client MUST ignore the router option
  const routes =
    raw.classless !== undefined && raw.classless.length > 0
      ? raw.classless
      : isIpv4(router)
        ? [{ dst: "default", via: router, metric: LEASE_ROUTE_METRIC }]
        : [];
  const renewalSeconds = /^\d+$/.test(raw.renewalSeconds ?? "") ? Number(raw.renewalSeconds) : undefined;
  return {
    cidr: `${ip}/${prefix}`,
    routes,
    server,
    leaseSeconds,
    ...(renewalSeconds === undefined ? {} : { renewalSeconds }),
  };
}

/** Reads the `key=value` lines our hook scripts write. */
export function parseEnvFile(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) values.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return values;
}
