import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { AddressWatch } from "../../src/harness/address-watch.js";
import type { BootedNode } from "../../src/harness/booted-node.js";
import type { Netns } from "../../src/harness/netns.js";
import { bundlePath } from "../../src/harness/bundle-path.js";
import { run, runChecked, type RunResult } from "../../src/util/exec.js";
import { isRoot } from "./root.js";
import { skipWhen } from "./skip.js";

const BUILD_SCRIPT = fileURLToPath(new URL("../../scripts/build-rootfs.sh", import.meta.url));
/** a cold debootstrap takes about a minute on a good mirror; leave room for a slow one */
const BUILD_TIMEOUT_MS = 15 * 60_000;

export type RootfsResult = { readonly rootfs: string } | { readonly skip: string };

/**
 * "managers": the base tree plus ifupdown, NetworkManager and netplan, none of them enabled;
 * "ansible": the base tree plus python3, for Ansible's modules
 */
export type RootfsVariant = "base" | "managers" | "ansible";

const cached = new Map<RootfsVariant, Promise<RootfsResult>>();

/**
 * The booted-node rootfs, built (or found up to date) by scripts/build-rootfs.sh; or the
 * reason it can't be had, for a loud skip. Built once per test process and variant.
 */
export function ensureRootfs(variant: RootfsVariant = "base"): Promise<RootfsResult> {
  let built = cached.get(variant);
  if (built === undefined) {
    built = buildRootfs(variant);
    cached.set(variant, built);
  }
  return built;
}

async function buildRootfs(variant: RootfsVariant): Promise<RootfsResult> {
  if (!isRoot) return { skip: "booted nodes need root (namespaces, systemd-nspawn, debootstrap)" };
  // .ci/run builds the rootfs as its own step; when that failed, say so instead of retrying
  // the same mirror once per test process
  const stepFailed = process.env.HOLDFAST_ROOTFS_ERROR;
  if (stepFailed) return { skip: `the rootfs step of this run failed: ${stepFailed}` };
  for (const tool of ["systemd-nspawn", "debootstrap", "nsenter", "ssh-keygen"]) {
    const found = await run("sh", ["-c", `command -v ${tool}`], { timeoutMs: 5000 });
    if (found.code !== 0) return { skip: `${tool} is not installed (see scripts/install-deps.sh)` };
  }
  const args = variant === "base" ? [BUILD_SCRIPT] : [BUILD_SCRIPT, "--variant", variant];
  const result = await run("bash", args, { timeoutMs: BUILD_TIMEOUT_MS });
  if (result.code !== 0) {
    const tail = result.stderr.trim().split("\n").slice(-8).join("\n");
    return {
      skip: `scripts/build-rootfs.sh failed (${result.timedOut ? "timed out" : `exit ${result.code}`}):\n${tail}`,
    };
  }
  const rootfs = result.stdout.trim().split("\n").pop() ?? "";
  if (!existsSync(join(rootfs, "usr/lib/systemd/systemd")))
    return { skip: `no systemd in built rootfs ${rootfs}` };
  return { rootfs };
}

/**
 * The rootfs for one booted-node test file (pass `import.meta.url`), or undefined when the
 * file must skip: loudly, and under CI=true the file fails instead (test/helpers/skip.ts).
 * `alsoNeeds` is the file's other reason not to run, if any.
 */
export async function rootfsFor(
  file: string,
  alsoNeeds?: () => Promise<string | undefined>,
  variant: RootfsVariant = "base",
): Promise<string | undefined> {
  const built = await ensureRootfs(variant);
  const reason = "skip" in built ? built.skip : await alsoNeeds?.();
  if (skipWhen(file, reason) || "skip" in built) return undefined;
  return built.rootfs;
}

/** A render spec for a lab node: one attachment on its pn0 veth (no 802.1Q in the lab). */
export function pn0Spec(
  name: string,
  attachment: Record<string, unknown>,
  node: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    version: 1,
    node: { name, ...node },
    agent: {
      install: "embedded",
      config: {
        version: 1,
        attachments: [{ interface: "pn0", link: { kind: "existing" }, ...attachment }],
      },
    },
  };
}

/** `holdfast render --format script` with the real bundle, as an operator would run it. */
export async function renderScript(spec: object, workDir: string, name: string): Promise<string> {
  const specPath = join(workDir, `${name}.spec.json`);
  await writeFile(specPath, JSON.stringify(spec));
  const rendered = await run(
    process.execPath,
    [bundlePath(), "render", "--spec", specPath, "--format", "script"],
    {
      timeoutMs: 60_000,
    },
  );
  if (rendered.code !== 0) throw new Error(`holdfast render failed: ${rendered.stderr}`);
  return rendered.stdout;
}

/** When the watched address was first absent at or after `from` (epoch ms), if ever. */
export function firstAbsentAfter(watch: AddressWatch, from: number): number | undefined {
  return watch.samples.find((s) => s.t >= from && !s.present)?.t;
}

/**
 * The longest time (ms) the watched address was absent within [from, to], from the kernel's
 * own add/delete events; 0 when it never was. Absent at `to` counts up to `to`.
 */
export function longestAbsence(watch: AddressWatch, from: number, to: number): number {
  const before = watch.samples.filter((s) => s.t < from).pop();
  let absentSince = before === undefined || !before.present ? from : undefined;
  let longest = 0;
  for (const sample of watch.samples.filter((s) => s.t >= from && s.t <= to)) {
    if (!sample.present) absentSince ??= sample.t;
    else if (absentSince !== undefined) {
      longest = Math.max(longest, sample.t - absentSince);
      absentSince = undefined;
    }
  }
  return absentSince === undefined ? longest : Math.max(longest, to - absentSince);
}

export interface SshKey {
  readonly privateKey: string;
  readonly publicKey: string;
}

/** A fresh ed25519 client key pair in dir (no passphrase: BatchMode). */
export async function makeSshKey(dir: string, name = "id_ed25519"): Promise<SshKey> {
  const privateKey = join(dir, name);
  await runChecked(
    run,
    "ssh-keygen",
    ["-q", "-t", "ed25519", "-N", "", "-C", "holdfast-test", "-f", privateKey],
    {
      timeoutMs: 10_000,
    },
  );
  return { privateKey, publicKey: (await readFile(`${privateKey}.pub`, "utf8")).trim() };
}

/** Installs publicKey in ~user/.ssh/authorized_keys inside the node, with the modes sshd insists on. */
export async function authorizeKey(node: BootedNode, user: string, publicKey: string): Promise<void> {
  const script = [
    "set -eu",
    `home=$(getent passwd "$1" | cut -d: -f6)`,
    `install -d -m 700 -o "$1" -g "$1" "$home/.ssh"`,
    `cat >> "$home/.ssh/authorized_keys"`,
    `chown "$1:$1" "$home/.ssh/authorized_keys"`,
    `chmod 600 "$home/.ssh/authorized_keys"`,
  ].join("\n");
  const result = await node.exec("sh", ["-c", script, "sh", user], { input: `${publicKey}\n` });
  if (result.code !== 0) throw new Error(`authorizeKey ${node.name}: ${result.stderr.trim()}`);
}

/** Pins the node's host key for address in a known_hosts file (so StrictHostKeyChecking=yes works). */
export async function pinHostKey(knownHosts: string, address: string, node: BootedNode): Promise<void> {
  const existing = existsSync(knownHosts) ? await readFile(knownHosts, "utf8") : "";
  await writeFile(knownHosts, `${existing}${address} ${node.identity.hostKey}\n`);
}

export interface SshTarget {
  /** namespace the client runs in: the topology's runner */
  readonly from: Netns;
  readonly address: string;
  readonly user: string;
  readonly key: SshKey;
  readonly knownHosts: string;
}

/** The OpenSSH client options converge tests use: no host config, no prompts, pinned host keys. */
export function sshOptions(target: SshTarget): string[] {
  return [
    "-F", "/dev/null", "-i", target.key.privateKey, "-o", "IdentitiesOnly=yes",
    "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
    "-o", `UserKnownHostsFile=${target.knownHosts}`, "-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR",
  ]; // prettier-ignore
}

/**
 * ssh to a booted node from the runner namespace with the host's OpenSSH client, e.g.
 * `await sshTo(target)("sudo -n bash -s", script)`, the way a bootstrap is delivered.
 */
export function sshTo(target: SshTarget): (command: string, input?: string) => Promise<RunResult> {
  return (command, input) =>
    target.from.exec("ssh", [...sshOptions(target), `${target.user}@${target.address}`, command], {
      timeoutMs: 120_000,
      ...(input === undefined ? {} : { input }),
    });
}
