import { z } from "zod";
import { duration } from "./duration.js";
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

const listen = z
  .string({ error: (iss) => `expected "host:port" like "127.0.0.1:9464", got ${got(iss.input)}` })
  .refine(
    (s) => {
      const m = /^(.+):(\d{1,5})$/.exec(s);
      return m !== null && Number(m[2]) >= 1 && Number(m[2]) <= 65535;
    },
    { error: (iss) => `expected "host:port" like "127.0.0.1:9464", got ${got(iss.input)}` },
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

const dhcpAddress = z.strictObject({
  source: z.literal("dhcp"),
  dhcpClient: z
    .enum(["auto", ...DHCP_CLIENTS], {
      error: (iss) => `expected one of auto, ${DHCP_CLIENTS.join(", ")}, got ${got(iss.input)}`,
    })
    .default("auto"),
});

const staticAddress = z.strictObject({ source: z.literal("static"), cidr });

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
  address: address.prefault({ source: "dhcp", dhcpClient: "auto" }),
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
export type ConflictSpec = Attachment["conflict"];
export type OnConflict = (typeof ON_CONFLICT)[number];
