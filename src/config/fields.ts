/**
 * The fields the config shares with the address cache: an interface name and an IPv4 address
 * in CIDR form. Their own module, so the agent's cache (src/agent/cache.ts) builds these few
 * schemas and not the whole config's (src/config/schema.ts), which it never needs when it
 * starts from a config it has validated before (src/config/snapshot.ts).
 */
import { z } from "zod";
import { IFNAME_RULE, IFNAMSIZ, isValidIfname } from "../net/ifname.js";
import { got } from "../util/got.js";

export const ifname = z
  .string({
    error: (iss) => `expected an interface name (1-${IFNAMSIZ - 1} characters), got ${got(iss.input)}`,
  })
  .refine(isValidIfname, {
    error: (iss) => `expected an interface name of ${IFNAME_RULE}, got ${got(iss.input)}`,
  });

const IPV4_OCTET = "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
const IPV4 = new RegExp(`^${IPV4_OCTET}(\\.${IPV4_OCTET}){3}$`);
export const isIpv4 = (s: string): boolean => IPV4.test(s);

export const cidr = z
  .string({ error: (iss) => `expected an IPv4 CIDR like "172.16.0.2/22", got ${got(iss.input)}` })
  .refine(
    (s) => {
      const [ip, len, ...rest] = s.split("/");
      return (
        rest.length === 0 &&
        ip !== undefined &&
        isIpv4(ip) &&
        /^\d{1,2}$/.test(len ?? "") &&
        Number(len) <= 32
      );
    },
    { error: (iss) => `expected an IPv4 CIDR like "172.16.0.2/22", got ${got(iss.input)}` },
  );

/**
 * Why the kernel would not hold `ip/len` as a host's own address, or undefined when it would.
 * `ip addr replace 0.0.0.0/0` succeeds and leaves nothing on the link, and a multicast or
 * loopback address is not a PN address at all: such a CIDR is refused up front, so the
 * agent never reports "held" for an address that is not there.
 */
export function unholdableReason(value: string): string | undefined {
  const [ip = "", len = "0"] = value.split("/");
  const octets = ip.split(".").map(Number);
  const first = octets[0] ?? 0;
  const prefix = Number(len);
  const address = octets.reduce((n, o) => n * 256 + o, 0);
  if (prefix === 0) return "a /0 prefix is the whole Internet, not a network";
  if (first === 0) return "0.0.0.0/8 means this host, not an address";
  if (first === 127) return "127.0.0.0/8 is loopback";
  if (first >= 224 && first <= 239) return "224.0.0.0/4 is multicast";
  if (first >= 240) return "240.0.0.0/4 is reserved (and 255.255.255.255 is broadcast)";
  // RFC 3021: /31 and /32 have no network or broadcast address
  if (prefix <= 30) {
    const size = 2 ** (32 - prefix);
    const host = address % size;
    if (host === 0) return `it is the network address of its /${prefix}`;
    if (host === size - 1) return `it is the broadcast address of its /${prefix}`;
  }
  return undefined;
}

/** An address a host can hold: a CIDR the kernel will really put on the link. */
export const hostCidr = cidr.superRefine((value, ctx) => {
  // a value that is no CIDR at all has its one message already (zod runs every refinement)
  if (!cidr.safeParse(value).success) return;
  const why = unholdableReason(value);
  if (why !== undefined)
    ctx.addIssue({
      code: "custom",
      message: `expected a unicast host address in CIDR form like "172.16.0.2/22", got ${got(value)} (${why})`,
    });
});
