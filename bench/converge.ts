/**
 * bench/converge: wall time of `holdfast converge` over real ssh to N booted nodes
 * (systemd-nspawn Debian 12, sshd, key auth, sudo), first run (install + adoption of the
 * hand-set PN address) and second run (all unchanged), plus memory per node.
 *
 *   npm run build && npx tsx bench/converge.ts [--nodes 5] [--concurrency 10]
 *
 * Runs only in namespaces it creates; needs root and a rootfs from scripts/build-rootfs.sh.
 */
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { ConvergeReport } from "../src/converge/report.js";
import { NodeCgroup } from "../src/harness/nspawn-cgroup.js";
import { ensureRootfs } from "../test/helpers/booted-node.js";
import { BUNDLE, checkBundle, createConvergeLab, writeInventory } from "../test/e2e/converge-nodes.js";

const { values } = parseArgs({
  options: {
    nodes: { type: "string", default: "5" },
    concurrency: { type: "string", default: "10" },
  },
});
const count = Number(values.nodes);
if (process.getuid?.() !== 0) {
  console.error("bench/converge needs root (namespaces, systemd-nspawn)");
  process.exit(2);
}
const built = await ensureRootfs();
const problem = "skip" in built ? built.skip : await checkBundle();
if (problem !== undefined) {
  console.error(`bench/converge: ${problem}`);
  process.exit(2);
}

async function pssMiB(machine: string): Promise<number> {
  let total = 0;
  for (const pid of await new NodeCgroup(machine).pids()) {
    const rollup = await readFile(`/proc/${pid}/smaps_rollup`, "utf8").catch(() => "");
    total += Number(/^Pss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0);
  }
  return total / 1024;
}

const workDir = mkdtempSync(join(tmpdir(), "hf-bench-converge-"));
// a private copy: a rebuild of dist/ during the run must not turn "unchanged" into "upgrade"
const bundle = join(workDir, "holdfast.mjs");
copyFileSync(BUNDLE, bundle);
const bootStarted = performance.now();
const lab = await createConvergeLab({
  rootfs: "rootfs" in built ? built.rootfs : "",
  prefix: `hfbc${process.pid}`,
  workDir,
  count,
});
try {
  console.log(
    `${count} nodes booted with sshd in ${((performance.now() - bootStarted) / 1000).toFixed(1)} s`,
  );
  for (const [i, node] of lab.nodes.entries())
    await node.exec("ip", ["addr", "add", lab.topo.nodes[i]!.cidr, "dev", "pn0"]);
  const inventory = await writeInventory(
    workDir,
    Array.from({ length: count }, (_, i) => i),
  );

  const convergeOnce = async (label: string): Promise<ConvergeReport> => {
    const t0 = performance.now();
    const result = await lab.topo.runner.exec(
      process.execPath,
      [
        bundle,
        "converge",
        "--inventory",
        inventory,
        "--json",
        "--ssh-config",
        lab.sshConfig,
        "--concurrency",
        values.concurrency,
      ],
      { timeoutMs: 900_000 },
    );
    const wallMs = performance.now() - t0;
    const report = JSON.parse(result.stdout) as ConvergeReport;
    const per = report.hosts.map((h) => h.durationMs).sort((a, b) => a - b);
    const s = report.summary;
    console.log(
      `${label}: ${count} nodes at concurrency ${values.concurrency}: wall ${(wallMs / 1000).toFixed(1)} s (exit ${result.code}); ` +
        `${s.converged} converged, ${s.unchanged} unchanged, ${s.failed} failed; ` +
        `per host min ${(per[0]! / 1000).toFixed(1)} s, max ${(per.at(-1)! / 1000).toFixed(1)} s`,
    );
    return report;
  };
  await convergeOnce("first run (install + adopt)");
  await convergeOnce("second run (unchanged)");
  const pss = await Promise.all(lab.nodes.map((n) => pssMiB(n.machine)));
  console.log(
    `memory per node with the agent running: PSS min ${Math.min(...pss).toFixed(0)} MiB, max ${Math.max(...pss).toFixed(0)} MiB`,
  );
} finally {
  await lab.destroy();
  rmSync(workDir, { recursive: true, force: true });
}
