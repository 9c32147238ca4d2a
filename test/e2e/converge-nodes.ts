import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { bootNode, type BootedNode } from "../../src/harness/booted-node.js";
import type { KeaOptionData } from "../../src/harness/kea.js";
import { LAB_KEA_OPTIONS } from "../../src/harness/kea-options.js";
import { createTopology, type Topology } from "../../src/harness/topology.js";
import type { Runner } from "../../src/util/exec.js";
import { run } from "../../src/util/exec.js";
import { authorizeKey, makeSshKey, pinHostKey } from "../helpers/booted-node.js";

/**
 * A converge lab: N booted Debian nodes (systemd-nspawn, sshd, key auth for "ubuntu" with
 * passwordless sudo) on one lab topology, an ssh client config that pins their host keys,
 * and a Runner that spawns ssh inside the runner namespace. Shared by the converge
 * namespace test and bench/converge.ts.
 */
export interface ConvergeLab {
  readonly topo: Topology;
  readonly nodes: readonly BootedNode[];
  readonly workDir: string;
  /** `ssh -F` file: key, pinned known_hosts, user ubuntu */
  readonly sshConfig: string;
  /** spawns in the runner namespace, where the nodes' PN addresses are reachable */
  readonly runner: Runner;
  destroy(): Promise<void>;
}

export const BUNDLE = fileURLToPath(new URL("../../dist/holdfast.mjs", import.meta.url));

/** The bundle converge installs must know `adopt`: fail loudly on a stale dist/. */
export async function checkBundle(): Promise<string | undefined> {
  if (!existsSync(BUNDLE)) return `${BUNDLE} missing: run \`npm run build\``;
  const r = await run(process.execPath, [BUNDLE, "adopt", "--help"], { timeoutMs: 20_000 });
  return r.code === 0 ? undefined : `${BUNDLE} is stale (no \`adopt\`): run \`npm run build\``;
}

/** the incident's unit: dhclient in the foreground, renewing forever */
export const DHCLIENT_UNIT = `[Unit]
Description=renew-forever DHCP on pn0 (the unit before the fix)
[Service]
ExecStart=/sbin/dhclient -d -v pn0
Restart=always
[Install]
WantedBy=multi-user.target
`;

export const nodeIp = (i: number): string => `198.18.0.${10 + i}`;

export async function createConvergeLab(options: {
  readonly rootfs: string;
  readonly prefix: string;
  readonly workDir: string;
  readonly count: number;
  /**
   * Kea options for node i alone (a default route, classless routes) @default the lab's: a
   * route to the server identifier, without which a renew-forever client's unicast renewals
   * fail, its lease runs out and its own script flushes the address before converge starts
   */
  readonly keaOptionData?: (index: number) => readonly KeaOptionData[] | undefined;
}): Promise<ConvergeLab> {
  const specs = Array.from({ length: options.count }, (_, i) => ({
    name: `n${i + 1}`,
    ip: nodeIp(i),
    keaOptionData: options.keaOptionData?.(i) ?? LAB_KEA_OPTIONS,
  }));
  const topo = await createTopology({ prefix: options.prefix, workDir: options.workDir, nodes: specs });
  const nodes: BootedNode[] = [];
  const destroy = async (): Promise<void> => {
    await Promise.all(nodes.map((n) => n.destroy().catch(() => undefined)));
    await topo.destroy();
  };
  try {
    const booted = await Promise.allSettled(
      specs.map((spec, i) =>
        bootNode({
          rootfs: options.rootfs,
          ns: topo.nodes[i]!.ns,
          name: spec.name,
          workDir: options.workDir,
        }),
      ),
    );
    for (const result of booted) if (result.status === "fulfilled") nodes.push(result.value);
    const failed = booted.find((r) => r.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const key = await makeSshKey(options.workDir);
    const knownHosts = join(options.workDir, "known_hosts");
    for (const [i, node] of nodes.entries()) {
      await authorizeKey(node, "ubuntu", key.publicKey);
      await pinHostKey(knownHosts, specs[i]!.ip, node);
    }
    const sshConfig = join(options.workDir, "ssh_config");
    await writeFile(
      sshConfig,
      [
        "Host *",
        "  User ubuntu",
        `  IdentityFile ${key.privateKey}`,
        "  IdentitiesOnly yes",
        `  UserKnownHostsFile ${knownHosts}`,
        "  GlobalKnownHostsFile /dev/null",
        "",
      ].join("\n"),
    );
    const runner: Runner = (file, args, runOptions) => topo.runner.exec(file, args, runOptions);
    return { topo, nodes, workDir: options.workDir, sshConfig, runner, destroy };
  } catch (error) {
    await destroy().catch(() => undefined);
    throw error;
  }
}

/** The render spec every lab node converges to: pn0 is the lab's veth, discovered with dhclient. */
export function labSpec(reconcileInterval = "30s"): Record<string, unknown> {
  return {
    version: 1,
    node: { name: "placeholder", bootstrapUser: "ubuntu" },
    agent: {
      install: "embedded",
      config: {
        version: 1,
        attachments: [
          {
            interface: "pn0",
            link: { kind: "existing" },
            address: { source: "dhcp", dhcpClient: "dhclient" },
            reconcileInterval,
          },
        ],
      },
    },
  };
}

/** Writes spec.yaml and inventory.yaml (hosts = the given node indexes) into dir; returns the inventory path. */
export async function writeInventory(
  dir: string,
  indexes: readonly number[],
  spec: Record<string, unknown> = labSpec(),
  name = "inventory.yaml",
): Promise<string> {
  await writeFile(join(dir, "spec.yaml"), stringify(spec));
  const inventory = {
    version: 1,
    defaults: { user: "ubuntu", spec: "./spec.yaml" },
    hosts: indexes.map((i) => ({ name: `n${i + 1}`, address: nodeIp(i) })),
  };
  const file = join(dir, name);
  await writeFile(file, stringify(inventory));
  return file;
}
