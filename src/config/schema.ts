import { isIPv6 } from "node:net";
import { z } from "zod";
import { duration } from "./duration.js";
import { hostCidr, ifname, isIpv4 } from "./fields.js";
import { got } from "../util/got.js";

export { cidr, hostCidr, ifname, isIpv4, unholdableReason } from "./fields.js";

// RFC 1123 host name whose last label is not all digits (so `999.1.1.1` is no host name).
const HOST_NAME =
  /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** Where metrics.listen may bind: an IPv4 address, a bracketed IPv6 address or a host name. */
export function isListenHost(host: string): boolean {
  if (host.startsWith("[") && host.endsWith("]")) return isIPv6(host.slice(1, -1));
  return isIpv4(host) || HOST_NAME.test(host);
}

const LISTEN_EXPECTED = `expected "host:port" like "127.0.0.1:9464" (an IPv4 address, [IPv6] or a host name, port 1-65535)`;

const listen = z.string({ error: (iss) => `${LISTEN_EXPECTED}, got ${got(iss.input)}` }).refine(
  (s) => {
    const m = /^(.+):(\d{1,5})$/.exec(s);
    return m !== null && isListenHost(m[1] ?? "") && Number(m[2]) >= 1 && Number(m[2]) <= 65535;
  },
  { error: (iss) => `${LISTEN_EXPECTED}, got ${got(iss.input)}` },
);

const absolutePath = z
  .string({ error: (iss) => `expected an absolute path, got ${got(iss.input)}` })
  .refine((s) => s.startsWith("/") && !s.includes("\0") && !s.includes("\n"), {
    error: (iss) => `expected an absolute path, got ${got(iss.input)}`,
  });

const vlanLink = z.strictObject({
  kind: z.literal("vlan"),
  parent: z
    .union([z.literal("auto"), ifname], {
      error: (iss) => `expected "auto" or an interface name, got ${got(iss.input)}`,
    })
    .default("auto"),
  vlanId: z
    .number({ error: (iss) => `expected an integer 1-4094, got ${got(iss.input)}` })
    .int({ error: (iss) => `expected an integer 1-4094, got ${got(iss.input)}` })
    .min(1, { error: (iss) => `expected an integer 1-4094, got ${got(iss.input)}` })
    .max(4094, { error: (iss) => `expected an integer 1-4094, got ${got(iss.input)}` }),
});

const existingLink = z.strictObject({ kind: z.literal("existing") });

const link = z.discriminatedUnion("kind", [vlanLink, existingLink], {
  error: (iss) =>
    `expected "vlan" or "existing", got ${got((iss.input as { kind?: unknown } | undefined)?.kind)}`,
});

export const DHCP_CLIENTS = ["udhcpc", "dhcpcd", "dhclient"] as const;

// RFC 2131 §4.4.5: a client renews at T1; `auto` follows the server's T1 (option 58).
const CONFIRM_HINT = `"auto", "off" or a duration like "30s", "10m" or "1h", between 1s and 24h`;
const confirmDuration = duration(1000, 86_400_000);

/** How often the held address is confirmed with the server: `auto` (lease T1), `off`, or ms. */
export const confirmInterval = z
  .string({ error: (iss) => `expected ${CONFIRM_HINT}, got ${got(iss.input)}` })
  // also the JSON Schema's pattern; the bounds are checked below
  .regex(/^(auto|off|\d+(\.\d+)?(ms|s|m|h))$/, {
    error: (iss) => `expected ${CONFIRM_HINT}, got ${got(iss.input)}`,
  })
  .transform((text, ctx): "auto" | "off" | number => {
    if (text === "auto" || text === "off") return text;
    const parsed = confirmDuration.safeParse(text);
    if (parsed.success) return parsed.data;
    ctx.addIssue({ code: "custom", message: `expected ${CONFIRM_HINT}, got ${JSON.stringify(text)}` });
    return z.NEVER;
  });

const dhcpAddress = z.strictObject({
  source: z.literal("dhcp"),
  dhcpClient: z
    .enum(["auto", ...DHCP_CLIENTS], {
      error: (iss) => `expected one of auto, ${DHCP_CLIENTS.join(", ")}, got ${got(iss.input)}`,
    })
    .default("auto"),
  confirmInterval: confirmInterval.prefault("auto"),
  onReassign: z
    .enum(["follow", "hold"], {
      error: (iss) => `expected "follow" or "hold", got ${got(iss.input)}`,
    })
    .default("follow"),
});

/** A field that only a DHCP attachment may carry; a static one names it instead of "unknown field". */
const dhcpOnly = (why: string) =>
  z.never({ error: (iss) => `only for source: dhcp (${why}), got ${got(iss.input)}` }).optional();

const staticAddress = z.strictObject({
  source: z.literal("static"),
  cidr: hostCidr,
  confirmInterval: dhcpOnly("a static address has no server to confirm it with"),
  onReassign: dhcpOnly("a static address has no server that could reassign it"),
});

const address = z.discriminatedUnion("source", [dhcpAddress, staticAddress], {
  error: (iss) =>
    `expected "dhcp" or "static", got ${got((iss.input as { source?: unknown } | undefined)?.source)}`,
});

const discovery = z.strictObject({
  attemptTimeout: duration(1000, 300_000).prefault("15s"),
  maxBackoff: duration(1000, 3_600_000).prefault("30s"),
});

export const ON_CONFLICT = ["defend", "yield"] as const;

/** RFC 5227 conflict detection on the held address (design §3 step 7). */
const conflict = z.strictObject({
  // false: no probing; announcements after every assert stay on
  detect: z.boolean({ error: (iss) => `expected true or false, got ${got(iss.input)}` }).default(true),
  // RFC 5227 §2.4 leaves the period to the host; a probe run that is still under way when
  // the next one is due (up to 4 s with no reply) makes that one skip, never overlap
  interval: duration(1000, 3_600_000).prefault("30s"),
  onConflict: z
    .enum(ON_CONFLICT, {
      error: (iss) => `expected "defend" or "yield", got ${got(iss.input)}`,
    })
    .default("defend"),
});

export const attachmentSchema = z.strictObject({
  interface: ifname,
  link: link.prefault({ kind: "existing" }),
  address: address.prefault({ source: "dhcp" }),
  conflict: conflict.prefault({}),
  discovery: discovery.prefault({}),
  reconcileInterval: duration(100, 3_600_000).prefault("30s"),
});

// Scaleway attaches at most 8 private networks to one server.
export const MAX_ATTACHMENTS = 8;

export const configSchema = z
  .strictObject({
    version: z.literal(1, { error: (iss) => `expected 1, got ${got(iss.input)}` }),
    stateDir: absolutePath.default("/var/lib/holdfast"),
    runDir: absolutePath.default("/run/holdfast"),
    metrics: z.strictObject({ listen: listen.optional(), textfile: absolutePath.optional() }).optional(),
    attachments: z
      .array(attachmentSchema, {
        error: (iss) => `expected a list of 1-${MAX_ATTACHMENTS} attachments, got ${got(iss.input)}`,
      })
      .min(1, { error: `expected a list of 1-${MAX_ATTACHMENTS} attachments, got an empty list` })
      .max(MAX_ATTACHMENTS, {
        error: (iss) =>
          `expected at most ${MAX_ATTACHMENTS} attachments, got ${(iss.input as unknown[]).length}`,
      }),
  })
  .superRefine((config, ctx) => {
    const seen = new Map<string, number>();
    config.attachments.forEach((a, i) => {
      const first = seen.get(a.interface);
      if (first !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["attachments", i, "interface"],
          message: `expected a unique interface name, got ${JSON.stringify(a.interface)} (also attachments[${first}])`,
        });
      } else seen.set(a.interface, i);
      if (a.link.kind === "vlan" && a.link.parent === a.interface) {
        ctx.addIssue({
          code: "custom",
          path: ["attachments", i, "link", "parent"],
          message: `expected a parent other than the VLAN interface itself, got ${JSON.stringify(a.link.parent)}`,
        });
      }
    });
  });

export type ConfigInput = z.input<typeof configSchema>;
export type Config = Readonly<z.output<typeof configSchema>>;
export type Attachment = Readonly<z.output<typeof attachmentSchema>>;
export type LinkSpec = Attachment["link"];
export type AddressSpec = Attachment["address"];
export type DhcpClientName = (typeof DHCP_CLIENTS)[number];
export type ConfirmInterval = Extract<AddressSpec, { source: "dhcp" }>["confirmInterval"];
export type OnReassign = Extract<AddressSpec, { source: "dhcp" }>["onReassign"];
export type ConflictSpec = Attachment["conflict"];
export type OnConflict = (typeof ON_CONFLICT)[number];
