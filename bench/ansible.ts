/**
 * bench/ansible: the rendered Ansible role (Debian's ansible-playbook, forks 10, pipelining,
 * no fact gathering) against `holdfast converge` (concurrency 10) on the same N booted nodes
 * in one run: install on fresh nodes, then a run with nothing to change. Between the two
 * engines every node is wiped back to fresh (holdfast's files, unit, cache and the role's
 * staging removed; the hand-set PN address put back).
 *
 *   npm run build && npx tsx bench/ansible.ts [--nodes 10]
 *
 * Runs only in namespaces it creates; needs root, ansible-core and a rootfs from
 * scripts/build-rootfs.sh.
 */
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { ConvergeReport } from "../src/converge/report.js";
import { NODE_PATHS } from "../src/render/paths.js";
import { ANSIBLE_STAGE_DIR } from "../src/render/ansible.js";
import { ensureRootfs } from "../test/helpers/booted-node.js";
import { AnsibleProject, checkAnsible, taskTimes } from "../test/e2e/ansible-run.js";
import { BUNDLE, checkBundle, createConvergeLab, writeInventory } from "../test/e2e/converge-nodes.js";

const { values } = parseArgs({ options: { nodes: { type: "string", default: "10" } } });
const count = Number(values.nodes);
if (process.getuid?.() !== 0) {
  console.error("bench/ansible needs root (namespaces, systemd-nspawn)");
  process.exit(2);
}
const built = await ensureRootfs();
const problem = "skip" in built ? built.skip : ((await checkBundle()) ?? (await checkAnsible()));
if (problem !== undefined) {
  console.error(`bench/ansible: ${problem}`);
  process.exit(2);
}

const WIPE = [
  "systemctl disable --now holdfast.service 2>/dev/null || true",
  `rm -rf ${NODE_PATHS.bundle} ${NODE_PATHS.launcher} /etc/holdfast ${NODE_PATHS.unit} /var/lib/holdfast /run/holdfast ${ANSIBLE_STAGE_DIR}`,
  "systemctl daemon-reload",
].join("; ");

const workDir = mkdtempSync(join(tmpdir(), "hf-bench-ansible-"));
const bundle = join(workDir, "holdfast.mjs");
copyFileSync(BUNDLE, bundle);
const lab = await createConvergeLab({
  rootfs: "rootfs" in built ? built.rootfs : "",
  prefix: `hfba${process.pid}`,
  workDir,
  count,
});
const project = new AnsibleProject(lab, workDir, bundle);
const seconds = (ms: number): string => (ms / 1000).toFixed(1);
try {
  const all = Array.from({ length: count }, (_, i) => i);
  const freshen = async (): Promise<void> => {
    for (const [i, node] of lab.nodes.entries()) {
      await node.exec("sh", ["-c", WIPE]);
      await node.exec("ip", ["addr", "replace", lab.topo.nodes[i]!.cidr, "dev", "pn0"]);
    }
  };
  await freshen();
  const inventory = await writeInventory(workDir, all);
  await project.render(join(workDir, "spec.yaml"));
  const hosts = await project.inventory(all);

  const role = async (label: string): Promise<number> => {
    const r = await project.playbook(hosts);
    const changed = Object.values(r.report.stats).filter((s) => s.changed > 0).length;
    const failed = Object.values(r.report.stats).filter((s) => s.failures + s.unreachable > 0).length;
    console.log(
      `role ${label}: ${seconds(r.durationMs)} s (exit ${r.code}; ${changed} changed, ${failed} failed; slowest tasks: ${taskTimes(r.report)})`,
    );
    if (r.code !== 0) throw new Error(`role ${label} failed: ${r.stderr}`);
    return r.durationMs;
  };
  const converge = async (label: string): Promise<number> => {
    const t0 = performance.now();
    const r = await lab.topo.runner.exec(
      process.execPath,
      [bundle, "converge", "--inventory", inventory, "--json", "--ssh-config", lab.sshConfig],
      { timeoutMs: 600_000 },
    );
    const ms = performance.now() - t0;
    const report = JSON.parse(r.stdout) as ConvergeReport;
    console.log(`converge ${label}: ${seconds(ms)} s (exit ${r.code}; ${JSON.stringify(report.summary)})`);
    for (const host of report.hosts.filter((h) => h.outcome === "failed"))
      console.log(`  ${host.name}: ${JSON.stringify(host).slice(0, 400)}`);
    if (r.code !== 0) throw new Error(`converge ${label} failed`);
    return ms;
  };

  const roleInstall = await role("install");
  const roleUnchanged = await role("unchanged");
  await project.close();
  await freshen();
  const convergeInstall = await converge("install");
  const convergeUnchanged = await converge("unchanged");

  const load = (await readFile("/proc/loadavg", "utf8")).split(" ").slice(0, 3).join(" ");
  console.log(
    `\n${count} nodes, forks / concurrency 10, ${new Date().toISOString()}, load average ${load}:\n`,
  );
  console.log("| run | role (ansible-playbook) | holdfast converge | role / converge |");
  console.log("| --- | --- | --- | --- |");
  console.log(
    `| install | ${seconds(roleInstall)} s | ${seconds(convergeInstall)} s | ${(roleInstall / convergeInstall).toFixed(2)}× |`,
  );
  console.log(
    `| unchanged | ${seconds(roleUnchanged)} s | ${seconds(convergeUnchanged)} s | ${(roleUnchanged / convergeUnchanged).toFixed(2)}× |`,
  );
} finally {
  await project.close();
  await lab.destroy();
  rmSync(workDir, { recursive: true, force: true });
}
