import { dirname } from "node:path";
import { z } from "zod";
import { configSchema } from "../config/schema.js";
import { validate } from "../config/load.js";
import { resolveRunAlias } from "./paths.js";
import { got } from "../util/got.js";

// RFC 1123 host name, lower case as Kubernetes node names are: dot-separated labels of
// 1-63 characters from [a-z0-9-], not starting or ending with "-", at most 253 in all.
const RFC1123_LABEL = "[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?";
const RFC1123_NAME = new RegExp(`^${RFC1123_LABEL}(\\.${RFC1123_LABEL})*$`);
const MAX_HOSTNAME = 253;

const nodeName = z
  .string({ error: (iss) => `expected an RFC 1123 host name like "kura-cache-7", got ${got(iss.input)}` })
  .refine((s) => s.length <= MAX_HOSTNAME && RFC1123_NAME.test(s), {
    error: (iss) =>
      `expected an RFC 1123 host name (lower-case labels of [a-z0-9-], at most ${MAX_HOSTNAME} characters), got ${got(iss.input)}`,
  });

// Debian's adduser NAME_REGEX without the trailing "$" (a machine account), and the
// 32-character limit of utmp's ut_user.
const USERNAME = /^[a-z_][a-z0-9_-]{0,31}$/;

const bootstrapUser = z
  .string({ error: (iss) => `expected a Linux user name like "ubuntu", got ${got(iss.input)}` })
  .refine((s) => USERNAME.test(s), {
    error: (iss) =>
      `expected a Linux user name (1-32 characters from [a-z0-9_-], not starting with a digit or "-"), got ${got(iss.input)}`,
  });

// A path that becomes writable for the agent's unit (ReadWritePaths=) or is created by the
// install script: plain characters only (no systemd specifiers, quoting or spaces), no
// "." / ".." segments, and never a system tree that ProtectSystem=strict keeps read-only.
const UNIT_PATH = /^(\/[A-Za-z0-9_][A-Za-z0-9._-]*)+$/;
const SYSTEM_TREES = [
  "/usr",
  "/etc",
  "/boot",
  "/efi",
  "/proc",
  "/sys",
  "/dev",
  "/bin",
  "/sbin",
  "/lib",
  "/lib64",
];
// tmpfs, emptied at every boot: no place for the cache (a runDir there is a RuntimeDirectory=)
const VOLATILE_TREES = ["/run", "/var/run", "/dev/shm"];
// PrivateTmp=true gives the unit its own, so nothing it writes there is seen outside it
const PRIVATE_TREES = ["/tmp", "/var/tmp"];

/**
 * What a path in the agent config is for: the stateDir has to survive reboots; for the
 * metrics textfile, the unit makes its directory writable, so that directory is checked.
 */
export type UnitPathRole = "stateDir" | "runDir" | "textfile";

const treeOf = (path: string, trees: readonly string[]): string | undefined =>
  trees.find((t) => path === t || path.startsWith(`${t}/`));

export function unitPathProblem(path: string, role: UnitPathRole): string | undefined {
  const segments = path.split("/").slice(1);
  if (!UNIT_PATH.test(path) || segments.some((s) => s === "." || s === "..")) {
    return `expected an absolute path from [A-Za-z0-9._/-] without "." or ".." segments (it is written into the unit), got ${got(path)}`;
  }
  const dir = role === "textfile" ? dirname(path) : path;
  // "/var/run" is "/run" itself
  if (resolveRunAlias(dir).split("/").length - 1 < 2) {
    return role === "textfile"
      ? `expected a file in a directory at least two levels deep (the agent's unit may write to that directory), got ${got(path)}`
      : `expected a directory at least two levels deep (the agent's unit may write to it), got ${got(path)}`;
  }
  const volatile = role === "stateDir" ? treeOf(dir, VOLATILE_TREES) : undefined;
  if (volatile)
    return `expected a path outside ${volatile} (emptied at every boot, and the cache must survive reboots), got ${got(path)}`;
  const private_ = treeOf(dir, PRIVATE_TREES);
  if (private_)
    return `expected a path outside ${private_} (the agent's unit gets a private ${private_}: PrivateTmp=true), got ${got(path)}`;
  const tree = treeOf(dir, SYSTEM_TREES);
  if (tree)
    return `expected a path outside ${tree} (ProtectSystem=strict keeps it read-only), got ${got(path)}`;
  return undefined;
}

const agentConfig = configSchema.superRefine((config, ctx) => {
  const problems: [PropertyKey[], string | undefined][] = [
    [["stateDir"], unitPathProblem(config.stateDir, "stateDir")],
    [["runDir"], unitPathProblem(config.runDir, "runDir")],
    [
      ["metrics", "textfile"],
      config.metrics?.textfile && unitPathProblem(config.metrics.textfile, "textfile"),
    ],
  ];
  for (const [path, message] of problems) {
    if (message) ctx.addIssue({ code: "custom", path, message });
  }
});

export const INSTALL_MODES = ["embedded", "npm"] as const;

export const specSchema = z.strictObject({
  version: z.literal(1, { error: (iss) => `expected 1, got ${got(iss.input)}` }),
  node: z.strictObject({
    name: nodeName,
    bootstrapUser: bootstrapUser.default("root"),
  }),
  agent: z.strictObject({
    install: z
      .enum(INSTALL_MODES, {
        error: (iss) => `expected one of ${INSTALL_MODES.join(", ")}, got ${got(iss.input)}`,
      })
      .default("embedded"),
    config: agentConfig,
  }),
});

/** The render spec as written (design §4.6): what `renderBootstrap()` accepts. */
export type SpecInput = z.input<typeof specSchema>;
/** The render spec after validation and defaults. */
export type Spec = Readonly<z.output<typeof specSchema>>;
export type InstallMode = (typeof INSTALL_MODES)[number];

/** Validates a spec document; every problem is reported at once, with its field path. */
export function parseSpec(document: unknown, file = "<spec>"): Spec {
  return validate(specSchema, document, file, "render spec");
}
