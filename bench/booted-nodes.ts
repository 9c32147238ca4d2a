/**
 * bench/booted-nodes: boots N systemd-nspawn nodes at once in one lab topology and reports
 * boot time to `running`, reboot time, memory per node, and whether every node answers ssh
 * from the runner namespace (what converge tests need: 5 nodes, ideally 10).
 *
 *   npx tsx bench/booted-nodes.ts [--nodes 10] [--rootfs /var/cache/holdfast-lab/rootfs-bookworm]
 *
 * Runs only in namespaces it creates; needs root and a rootfs from scripts/build-rootfs.sh.
 */
import { readFile } from "node:fs/promises";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { bootNode, type BootedNode } from "../src/harness/booted-node.js";
import { NodeCgroup } from "../src/harness/nspawn-cgroup.js";
import { createTopology } from "../src/harness/topology.js";
import { authorizeKey, makeSshKey, pinHostKey, sshTo } from "../test/helpers/booted-node.js";

const { values } = parseArgs({
  options: {
    nodes: { type: "string", default: "10" },
    rootfs: { type: "string", default: "/var/cache/holdfast-lab/rootfs-bookworm" },
  },
});
const count = Number(values.nodes);
if (process.getuid?.() !== 0) {
  console.error("bench/booted-nodes needs root (namespaces, systemd-nspawn)");
  process.exit(2);
}

async function memAvailableKiB(): Promise<number> {
  const text = await readFile("/proc/meminfo", "utf8");
  return Number(/MemAvailable:\s+(\d+)/.exec(text)?.[1] ?? NaN);
}

/** Proportional set size of every process of the node (nspawn included), in KiB. */
async function pssKiB(node: BootedNode): Promise<number> {
  let total = 0;
  for (const pid of await new NodeCgroup(node.machine).pids()) {
    const rollup = await readFile(`/proc/${pid}/smaps_rollup`, "utf8").catch(() => "");
    total += Number(/^Pss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0);
  }
  return total;
}

/** Every container's systemd, journald, logind… holds inotify instances charged to host root. */
async function countInotifyInstances(): Promise<number> {
  const { readdir, readlink } = await import("node:fs/promises");
  let total = 0;
  for (const pid of (await readdir("/proc")).filter((name) => /^\d+$/.test(name))) {
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => []);
    for (const fd of fds) {
      if ((await readlink(`/proc/${pid}/fd/${fd}`).catch(() => "")) === "anon_inode:inotify") total++;
    }
  }
  return total;
}

const stats = (xs: number[]): string => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted[Math.floor(sorted.length / 2)] ?? NaN;
  return `min ${sorted[0]?.toFixed(0)} ms, median ${mid.toFixed(0)} ms, max ${sorted.at(-1)?.toFixed(0)} ms`;
};

const workDir = mkdtempSync(join(tmpdir(), "hf-bench-booted-"));
const specs = Array.from({ length: count }, (_, i) => ({ name: `n${i + 1}`, ip: `198.18.0.${10 + i}` }));
const topo = await createTopology({ prefix: `hfbb${process.pid}`, workDir, nodes: specs });
// index-aligned with specs and topo.nodes (holes where a boot failed)
const nodes: BootedNode[] = [];
try {
  const memBefore = await memAvailableKiB();
  const started = performance.now();
  const bootTimes: number[] = [];
  const booted = await Promise.allSettled(
    specs.map(async (spec, i) => {
      const t0 = performance.now();
      const node = await bootNode({ rootfs: values.rootfs, ns: topo.nodes[i]!.ns, name: spec.name, workDir });
      bootTimes.push(performance.now() - t0);
      nodes[i] = node;
      return node;
    }),
  );
  const failed = booted.flatMap((result) => (result.status === "rejected" ? [String(result.reason)] : []));
  if (failed.length > 0)
    throw new Error(`${failed.length}/${count} nodes did not boot:\n${failed.join("\n")}`);
  const allUpMs = performance.now() - started;
  const states = await Promise.all(nodes.map((node) => node.waitBooted()));
  const failedUnits = (await Promise.all(nodes.map((node) => node.failedUnits()))).flat();
  if (failedUnits.length > 0) console.log(`failed units: ${[...new Set(failedUnits)].join(" ")}`);
  const inotify = await countInotifyInstances();
  console.log(
    `inotify instances in use on the host: ${inotify} (fs.inotify.max_user_instances limits them per uid)`,
  );
  console.log(
    `boot ${count} nodes concurrently: all running after ${allUpMs.toFixed(0)} ms; per node ${stats(bootTimes)}`,
  );
  console.log(`states: ${[...new Set(states)].join(", ")}`);

  const key = await makeSshKey(workDir);
  const knownHosts = join(workDir, "known_hosts");
  for (const [i, node] of nodes.entries()) {
    await node.exec("ip", ["addr", "add", topo.nodes[i]!.cidr, "dev", "pn0"]);
    await authorizeKey(node, "ubuntu", key.publicKey);
    await pinHostKey(knownHosts, topo.nodes[i]!.ip, node);
  }
  const sshStarted = performance.now();
  const answers = await Promise.all(
    nodes.map((_, i) =>
      sshTo({ from: topo.runner, address: topo.nodes[i]!.ip, user: "ubuntu", key, knownHosts })(
        "sudo -n hostname",
      ),
    ),
  );
  const sshOk = answers.filter((answer, i) => answer.stdout.trim() === specs[i]!.name).length;
  console.log(
    `ssh + sudo from the runner: ${sshOk}/${count} ok in ${(performance.now() - sshStarted).toFixed(0)} ms`,
  );

  const pss = await Promise.all(nodes.map(pssKiB));
  const memAfter = await memAvailableKiB();
  console.log(
    `memory per node: PSS ${stats(pss.map((k) => k / 1024)).replaceAll("ms", "MiB")}; ` +
      `MemAvailable dropped ${((memBefore - memAfter) / 1024 / count).toFixed(0)} MiB per node`,
  );

  const rebootTimes: number[] = [];
  for (const node of nodes.slice(0, Math.min(3, count))) {
    const t0 = performance.now();
    await node.reboot();
    rebootTimes.push(performance.now() - t0);
  }
  console.log(`reboot (systemctl reboot → running again), one at a time: ${stats(rebootTimes)}`);
} finally {
  await Promise.all(nodes.filter(Boolean).map((node) => node.destroy()));
  await topo.destroy();
  rmSync(workDir, { recursive: true, force: true });
}
