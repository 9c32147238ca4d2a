/**
 * bench/confirm-cost: what the confirm loop costs, and whether it slows the restore path.
 * One run, one topology (real Kea, 10 s leases, udhcpc), two phases of the bundled agent:
 *   1. confirmInterval off  2. confirmInterval auto (T1 = 5 s)
 * Each phase runs `--seconds` while the held address is deleted `--rounds` times; it reports
 * confirm exchanges, agent CPU (its own plus its reaped children: the DHCP clients and `ip`),
 * peak RSS (VmHWM), and restore-after-delete p50 / p99 from `ip -ts monitor address`.
 * Per-hour figures are extrapolated from the phase (said so in the output); the 1 h lease
 * figure is idle cost per hour plus 2 exchanges (T1 = 30 min) at the measured cost each.
 *
 *   npm run build && npx tsx bench/confirm-cost.ts [--seconds 60] [--rounds 40]
 *
 * Runs only in namespaces it creates; needs root.
 */
import { createReadStream, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { AGENT_NODE_OPTIONS } from "../src/agent/node-options.js";
import { createTopology, type LabNode } from "../src/harness/topology.js";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "60" },
    rounds: { type: "string", default: "40" },
  },
});
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const LEASE_S = 10;
const bundle = resolve("dist/holdfast.mjs");
const CLK_TCK = 100;

if (process.getuid?.() !== 0) {
  console.error("bench/confirm-cost needs root (network namespaces)");
  process.exit(2);
}

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

function stamp(line: string): number | undefined {
  const m = /^\[?(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d+)/.exec(line);
  return m ? Date.parse(`${m[1]}Z`) + Number(`0.${m[2]}`) * 1000 : undefined;
}

/** utime + stime + cutime + cstime, in seconds */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0) / CLK_TCK;
}

const peakRssMb = (pid: number): number =>
  Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? NaN) / 1024;

interface Phase {
  readonly label: string;
  readonly exchanges: number;
  readonly cpuS: number;
  readonly peakRssMb: number;
  readonly p50: number;
  readonly p99: number;
  readonly paired: number;
}

async function phase(node: LabNode, confirmInterval: string, label: string): Promise<Phase> {
  const dir = mkdtempSync(join(tmpdir(), "hf-confirm-bench-"));
  const textfile = join(dir, "holdfast.prom");
  writeFileSync(
    join(dir, "holdfast.yaml"),
    [
      "version: 1",
      `stateDir: ${dir}/state`,
      `runDir: ${dir}/run`,
      `metrics: { textfile: ${textfile} }`,
      "attachments:",
      "  - interface: pn0",
      "    link: { kind: existing }",
      `    address: { source: dhcp, dhcpClient: udhcpc, confirmInterval: ${confirmInterval} }`,
      "    discovery: { attemptTimeout: 5s, maxBackoff: 2s }",
      "    reconcileInterval: 30s",
      "",
    ].join("\n"),
  );
  await node.ns.exec("ip", ["addr", "flush", "dev", "pn0"]);
  const monitorLog = join(dir, "monitor.log");
  const monitor = node.ns.spawn("nice", ["-n", "-20", "ip", "-ts", "-o", "monitor", "address"], {
    stdout: monitorLog,
  });
  const agent = node.ns.spawn(
    process.execPath,
    [...AGENT_NODE_OPTIONS, bundle, "agent", "--config", join(dir, "holdfast.yaml")],
    { stdout: join(dir, "agent.log") },
  );
  const held = async () => (await node.addresses()).includes(node.cidr);
  for (let i = 0; !(await held()); i++) {
    if (i > 400) throw new Error(`${label}: never held; log ${join(dir, "agent.log")}`);
    await sleep(50);
  }
  const cpuBefore = cpuSeconds(agent.pid);
  const started = Date.now();
  const gapMs = (seconds * 1000) / rounds;
  for (let i = 0; i < rounds; i++) {
    await node.ns.exec("ip", ["addr", "del", node.cidr, "dev", "pn0"]);
    for (let j = 0; !(await held()); j++) {
      if (j > 400) throw new Error(`${label}: not restored in round ${i}`);
      await sleep(5);
    }
    await sleep(Math.max(0, started + (i + 1) * gapMs - Date.now()));
  }
  const cpuS = cpuSeconds(agent.pid) - cpuBefore;
  const rss = peakRssMb(agent.pid);
  const prom = readFileSync(textfile, "utf8");
  const exchanges = [...prom.matchAll(/^holdfast_confirm_attempts_total\{[^}]*\} (\d+)/gm)].reduce(
    (sum, m) => sum + Number(m[1]),
    0,
  );
  agent.kill("SIGTERM");
  await agent.exited;
  monitor.kill("SIGTERM");
  await monitor.exited;

  const latencies: number[] = [];
  let deletedAt: number | undefined;
  let first = true;
  for await (const line of createInterface({ input: createReadStream(monitorLog) })) {
    if (!line.includes(` ${node.cidr} `)) continue;
    const at = stamp(line);
    if (at === undefined) continue;
    if (line.includes("Deleted")) deletedAt = at;
    else if (first) first = false;
    else if (deletedAt !== undefined) {
      latencies.push(at - deletedAt);
      deletedAt = undefined;
    }
  }
  latencies.sort((a, b) => a - b);
  return {
    label,
    exchanges,
    cpuS,
    peakRssMb: rss,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    paired: latencies.length,
  };
}

const topo = await createTopology({
  prefix: `hfcc${process.pid}`,
  leaseSeconds: LEASE_S,
  nodes: [{ name: "n1", ip: "198.18.0.51" }],
});
try {
  const node = topo.nodes[0]!;
  const off = await phase(node, "off", "confirmInterval off");
  const on = await phase(node, "auto", `confirmInterval auto (${LEASE_S} s lease, T1 ${LEASE_S / 2} s)`);
  const perHour = 3600 / seconds;
  const perExchange = on.exchanges > 0 ? Math.max(0, on.cpuS - off.cpuS) / on.exchanges : NaN;
  const f = (n: number, d = 1) => n.toFixed(d);
  console.log(
    `confirm-cost (${seconds} s per phase, ${rounds} deletions each; per-hour figures extrapolated from ${seconds} s)`,
  );
  for (const p of [off, on]) {
    console.log(
      `  ${p.label}: ${p.exchanges} exchanges, CPU ${f(p.cpuS, 2)} s, peak RSS ${f(p.peakRssMb)} MB, ` +
        `restore p50 ${f(p.p50)} ms p99 ${f(p.p99)} ms (${p.paired}/${rounds} paired)`,
    );
  }
  console.log(`  CPU per confirm exchange (agent + udhcpc, over the off phase): ${f(perExchange * 1000)} ms`);
  console.log(
    `  per hour, ${LEASE_S} s lease: ${Math.round(on.exchanges * perHour)} exchanges, ` +
      `${f(on.cpuS * perHour)} CPU-s, peak RSS ${f(on.peakRssMb)} MB`,
  );
  console.log(
    `  per hour, 1 h lease (T1 30 min: 2 exchanges): 2 exchanges, ` +
      `${f(off.cpuS * perHour + 2 * perExchange)} CPU-s (without confirmations ${f(off.cpuS * perHour)} + 2 × exchange), ` +
      `peak RSS ${f(Math.max(off.peakRssMb, on.peakRssMb))} MB`,
  );
} finally {
  await topo.destroy();
}
