import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { run, runChecked } from "../util/exec.js";

/**
 * What makes one booted node different from its siblings on the same rootfs: hostname,
 * machine-id and ssh host key. Written into the node's overlay upper layer before its
 * first boot, so every node is a distinct machine (converge pins each host key) while the
 * read-only lower layer stays shared.
 */
export interface NodeIdentity {
  readonly hostname: string;
  readonly machineId: string;
  /** "ssh-ed25519 AAAA…" of the node's host key */
  readonly hostKey: string;
}

const HOST_KEY = "etc/ssh/ssh_host_ed25519_key";

/** Directories in the upper layer take over the merged view's mode: give them the lower's. */
export async function mkdirUpper(upper: string, relative: string): Promise<void> {
  let path = upper;
  for (const part of relative.split("/")) {
    path = join(path, part);
    if (!existsSync(path)) {
      await mkdir(path);
      await chmod(path, 0o755);
    }
  }
}

/** Creates the identity on first use and reads it back afterwards (a reboot keeps it). */
export async function ensureIdentity(upper: string, hostname: string): Promise<NodeIdentity> {
  await mkdirUpper(upper, "etc/ssh");
  const machineIdFile = join(upper, "etc/machine-id");
  if (!existsSync(machineIdFile)) {
    await writeFile(machineIdFile, `${randomBytes(16).toString("hex")}\n`, { mode: 0o444 });
    await writeFile(join(upper, "etc/hostname"), `${hostname}\n`, { mode: 0o644 });
    // sudo and friends look the hostname up; without this line they warn on every call
    await writeFile(
      join(upper, "etc/hosts"),
      `127.0.0.1 localhost\n127.0.1.1 ${hostname}\n::1 localhost ip6-localhost ip6-loopback\n`,
      { mode: 0o644 },
    );
  }
  const keyFile = join(upper, HOST_KEY);
  if (!existsSync(keyFile)) {
    // only ed25519: fast to make, and what the tests pin in known_hosts
    const args = ["-q", "-t", "ed25519", "-N", "", "-C", `root@${hostname}`, "-f", keyFile];
    await runChecked(run, "ssh-keygen", args, { timeoutMs: 10_000 });
  }
  const machineId = (await readFile(machineIdFile, "utf8")).trim();
  const [type = "", key = ""] = (await readFile(`${keyFile}.pub`, "utf8")).split(" ");
  return { hostname, machineId, hostKey: `${type} ${key}` };
}
