import { existsSync } from "node:fs";
import { join } from "node:path";
import { invalidInput } from "../errors.js";
import type { Impl } from "./impls/types.js";

/** What every lab run needs, whatever the implementations. */
const LAB_REQUIRES = [
  { command: "ip", pkg: "iproute2" },
  { command: "kea-dhcp4", pkg: "kea-dhcp4-server" },
  { command: "unshare", pkg: "util-linux" },
] as const;

const SYSTEM_DIRS = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

export function findCommand(command: string): string | undefined {
  if (command.startsWith("/")) return existsSync(command) ? command : undefined;
  const dirs = [...(process.env.PATH ?? "").split(":").filter(Boolean), ...SYSTEM_DIRS];
  return dirs.map((dir) => join(dir, command)).find((path) => existsSync(path));
}

/**
 * Everything that would stop the lab half-way is checked before it makes anything, so a
 * refusal leaves nothing behind: root, then the programs of the lab and of every chosen
 * implementation.
 */
export function preflight(impls: readonly Impl[], isRoot = process.getuid?.() === 0): void {
  if (!isRoot) {
    throw invalidInput("the lab needs root (network namespaces, raw DHCP sockets)", "holdfast lab", [
      "run it as root, e.g. `sudo holdfast lab`",
    ]);
  }
  const missing = new Map<string, string[]>();
  for (const { command, pkg } of [
    ...LAB_REQUIRES,
    ...impls.flatMap((i) => i.requires.map((r) => ({ ...r, impl: i.name }))),
  ]) {
    if (findCommand(command)) continue;
    missing.set(pkg, [...(missing.get(pkg) ?? []), command]);
  }
  if (missing.size === 0) return;
  const pkgs = [...missing.keys()];
  throw invalidInput("programs the lab needs are missing", "holdfast lab", [
    ...[...missing].map(([pkg, commands]) => `${[...new Set(commands)].join(", ")} (Debian package ${pkg})`),
    `install them: apt-get install -y ${pkgs.join(" ")}`,
    "or leave the implementation that needs them out with --impl",
  ]);
}
