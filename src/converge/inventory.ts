import { dirname, resolve } from "node:path";
import { z } from "zod";
import { readDocument, validate } from "../config/load.js";
import { invalidInput } from "../errors.js";
import { parseSpec, type Spec } from "../render/spec.js";
import { got } from "../util/got.js";

/**
 * The inventory of `holdfast converge` (design §4.7): which hosts, how to reach them, and
 * which render spec (§4.6) each one gets. A host's spec path is relative to the inventory
 * file; the host's name replaces the spec's `node.name`.
 */

// Same rule as the render spec's node.name: the host name becomes node.name.
const RFC1123_LABEL = "[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?";
const RFC1123_NAME = new RegExp(`^${RFC1123_LABEL}(\\.${RFC1123_LABEL})*$`);
const MAX_HOSTNAME = 253;
// Debian's adduser NAME_REGEX and utmp's 32-character ut_user.
const USERNAME = /^[a-z_][a-z0-9_-]{0,31}$/;
// What ssh takes as a destination: a host name, IPv4 or IPv6 address, or a Host alias from
// ~/.ssh/config. Never starting with "-" (it would read as an option).
const ADDRESS = /^[A-Za-z0-9_:.%[\]][A-Za-z0-9_:.%[\]-]{0,252}$/;

const hostName = z
  .string({ error: (iss) => `expected an RFC 1123 host name like "cache-a", got ${got(iss.input)}` })
  .refine((s) => s.length <= MAX_HOSTNAME && RFC1123_NAME.test(s), {
    error: (iss) =>
      `expected an RFC 1123 host name (lower-case labels of [a-z0-9-]; it becomes node.name), got ${got(iss.input)}`,
  });

const address = z
  .string({ error: (iss) => `expected a host name or IP address, got ${got(iss.input)}` })
  .refine((s) => ADDRESS.test(s), {
    error: (iss) =>
      `expected a host name, IP address or ssh Host alias (not starting with "-", no spaces), got ${got(iss.input)}`,
  });

const user = z
  .string({ error: (iss) => `expected a Linux user name like "ubuntu", got ${got(iss.input)}` })
  .refine((s) => USERNAME.test(s), {
    error: (iss) => `expected a Linux user name (1-32 characters from [a-z0-9_-]), got ${got(iss.input)}`,
  });

const port = z
  .number({ error: (iss) => `expected a port number 1-65535, got ${got(iss.input)}` })
  .int({ error: (iss) => `expected a port number 1-65535, got ${got(iss.input)}` })
  .min(1, { error: (iss) => `expected a port number 1-65535, got ${got(iss.input)}` })
  .max(65535, { error: (iss) => `expected a port number 1-65535, got ${got(iss.input)}` });

const specPath = z
  .string({ error: (iss) => `expected a path to a render spec, got ${got(iss.input)}` })
  .min(1, { error: () => `expected a path to a render spec, got ""` });

const hostSchema = z.strictObject({
  name: hostName,
  address,
  user: user.optional(),
  port: port.optional(),
  spec: specPath.optional(),
});

export const inventorySchema = z
  .strictObject({
    version: z.literal(1, { error: (iss) => `expected 1, got ${got(iss.input)}` }),
    defaults: z
      .strictObject({ user: user.optional(), port: port.optional(), spec: specPath.optional() })
      .prefault({}),
    hosts: z
      .array(hostSchema, { error: (iss) => `expected a list of hosts, got ${got(iss.input)}` })
      .min(1, { error: () => "expected at least one host, got an empty list" }),
  })
  .superRefine((inventory, ctx) => {
    const seen = new Map<string, number>();
    for (const [index, host] of inventory.hosts.entries()) {
      const first = seen.get(host.name);
      if (first !== undefined)
        ctx.addIssue({
          code: "custom",
          path: ["hosts", index, "name"],
          message: `expected a unique name, got ${got(host.name)} again (also hosts[${first}])`,
        });
      else seen.set(host.name, index);
      if (host.spec === undefined && inventory.defaults.spec === undefined)
        ctx.addIssue({
          code: "custom",
          path: ["hosts", index, "spec"],
          message: "expected a render spec path here or in defaults.spec, got nothing",
        });
    }
  });

export type InventoryInput = z.input<typeof inventorySchema>;

/** One host, resolved: how to reach it and the spec it converges to. */
export interface InventoryHost {
  readonly name: string;
  readonly address: string;
  /** @default the ssh client's own choice (~/.ssh/config, then the local user) */
  readonly user: string | undefined;
  /** @default the ssh client's own choice (22 unless ~/.ssh/config says otherwise) */
  readonly port: number | undefined;
  /** absolute path of the render spec */
  readonly specFile: string;
  /** the render spec with node.name = the host's name */
  readonly spec: Spec;
}

export interface Inventory {
  readonly file: string;
  readonly hosts: readonly InventoryHost[];
}

/** Reads spec files once each (several hosts usually share one). */
function specReader(): (file: string) => unknown {
  const documents = new Map<string, unknown>();
  return (file) => {
    if (!documents.has(file)) documents.set(file, readDocument(file));
    return documents.get(file);
  };
}

function withName(document: unknown, name: string, file: string): unknown {
  if (typeof document !== "object" || document === null || Array.isArray(document))
    throw invalidInput("invalid render spec", file, [
      `(top level): expected a mapping, got ${document === null ? "nothing" : Array.isArray(document) ? "a list" : `a ${typeof document}`}`,
    ]);
  const spec = document as Record<string, unknown>;
  const node = spec.node;
  const nodeObject = typeof node === "object" && node !== null && !Array.isArray(node) ? node : {};
  return { ...spec, node: { ...nodeObject, name } };
}

/** Validates an inventory document; `file` names it in errors and anchors relative spec paths. */
export function parseInventory(
  document: unknown,
  file: string,
  readSpec: (file: string) => unknown = specReader(),
): Inventory {
  const inventory = validate(inventorySchema, document, file, "inventory");
  const base = dirname(resolve(file));
  const hosts = inventory.hosts.map((host): InventoryHost => {
    // the schema's refinement guarantees one of them is set
    const specFile = resolve(base, host.spec ?? inventory.defaults.spec ?? "");
    const spec = parseSpec(withName(readSpec(specFile), host.name, specFile), specFile);
    return {
      name: host.name,
      address: host.address,
      user: host.user ?? inventory.defaults.user,
      port: host.port ?? inventory.defaults.port,
      specFile,
      spec,
    };
  });
  return { file, hosts };
}

export function loadInventory(file: string): Inventory {
  return parseInventory(readDocument(file), file);
}
