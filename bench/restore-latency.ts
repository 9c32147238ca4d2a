/**
 * bench/restore-latency: deletes the held address N times inside a namespace and reports
 * how long the agent takes to put it back, from the kernel's own event stream
 * (`ip -ts monitor address`: the time each RTM_DELADDR / RTM_NEWADDR reached userspace),
 * then the agent's RSS and CPU time after an idle minute.
 *
 *   npm run build && npx tsx bench/restore-latency.ts [--rounds 100] [--idle 60] [--node /path/to/node]
 *     [--node-options="<flags>"]   (default: the agent's own, src/agent/node-options.ts; "" for none)
 *     [--nice N]                   (the agent's niceness, as the unit's Nice= would set it)
 *     [--load N]                   (N busy-looping processes beside it, to measure under CPU contention)
 *     [--arp on|off|both]          (RFC 5227 announcing; default both: one agent without an ARP
 *                                   tool, then one with it, same rounds, in one run)
 *
 * Runs only in namespaces it creates; needs root.
 */
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { AGENT_NODE_OPTIONS } from "../src/agent/node-options.js";
import { Netns } from "../src/harness/netns.js";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "100" },
    idle: { type: "string", default: "60" },
    node: { type: "string", default: process.execPath },
    "node-options": { type: "string", default: AGENT_NODE_OPTIONS.join(" ") },
    nice: { type: "string", default: "0" },
    load: { type: "string", default: "0" },
    arp: { type: "string", default: "both" },
  },
});
const rounds = Number(values.rounds);
const nodeOptions = values["node-options"].split(" ").filter(Boolean);
const idleSeconds = Number(values.idle);
const CIDR = "198.18.0.10/22";
const bundle = resolve("dist/holdfast.mjs");
const ARP_MODES: Record<string, readonly ("off" | "on")[]> = {
  on: ["on"],
  off: ["off"],
  both: ["off", "on"],
};
const modes = ARP_MODES[values.arp];
if (modes === undefined) {
  console.error(`--arp: expected on, off or both, got ${JSON.stringify(values.arp)}`);
  process.exit(2);
}

if (process.getuid?.() !== 0) {
  console.error("bench/restore-latency needs root (network namespaces)");
  process.exit(2);
}

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

/** `[2026-11-26T10:00:00.123456] Deleted 2: pn0    inet 198.18.0.10/22 …` → ms since epoch (µs precision). */
function stamp(line: string): number | undefined {
  const m = /^\[?(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d+)/.exec(line);
  if (!m) return undefined;
  return Date.parse(`${m[1]}Z`) + Number(`0.${m[2]}`) * 1000;
}

/** Where the agent finds `ip` and nothing else: no arping, no busybox, so it cannot announce. */
function pathWithoutArp(dir: string): string {
  const bin = join(dir, "bin");
  mkdirSync(bin);
  for (const tool of ["ip", "nice"]) symlinkSync(`/usr/bin/${tool}`, join(bin, tool));
  return bin;
}

for (const mode of modes) await measure(mode);

async function measure(arp: "on" | "off"): Promise<void> {
  const ns = await Netns.create(`hfbench${arp}${process.pid}`);
  try {
    await ns.exec("ip", ["link", "add", "pn0", "type", "veth", "peer", "name", "pn0peer"]);
    await ns.exec("ip", ["link", "set", "pn0peer", "up"]);
    const dir = mkdtempSync(join(tmpdir(), "hf-bench-"));
    writeFileSync(
      join(dir, "holdfast.yaml"),
      [
        "version: 1",
        `stateDir: ${dir}/state`,
        `runDir: ${dir}/run`,
        `metrics: { textfile: ${dir}/holdfast.prom }`,
        "attachments:",
        "  - interface: pn0",
        "    link: { kind: existing }",
        `    address: { source: static, cidr: ${CIDR} }`,
        "    reconcileInterval: 30s",
        "",
      ].join("\n"),
    );
    // the instrument runs at the highest priority, so busy loops delay the agent, not the timestamps
    const monitor = ns.spawn("nice", ["-n", "-20", "ip", "-ts", "-o", "monitor", "address"], {
      stdout: join(dir, "monitor.log"),
    });
    const spawnedAt = Date.now();
    const agent = ns.spawn(
      values.node,
      [...nodeOptions, bundle, "agent", "--config", join(dir, "holdfast.yaml")],
      {
        stdout: join(dir, "agent.log"),
        env: arp === "on" ? process.env : { ...process.env, PATH: pathWithoutArp(dir) },
      },
    );
    const held = async () =>
      (await ns.exec("ip", ["-o", "-4", "addr", "show", "dev", "pn0"])).stdout.includes(CIDR);
    for (let i = 0; !(await held()); i++) {
      if (i > 100)
        throw new Error(`agent never held the address; log: ${readFileSync(join(dir, "agent.log"), "utf8")}`);
      await sleep(50);
    }
    await sleep(300);
    // busy loops in the bench's namespace: ns.destroy() ends them even when the bench fails
    const load = Array.from({ length: Number(values.load) }, () =>
      ns.spawn("sh", ["-c", "while :; do :; done"]),
    );
    for (let i = 0; i < rounds; i++) {
      await ns.exec("ip", ["addr", "del", CIDR, "dev", "pn0"]);
      for (let j = 0; !(await held()); j++) {
        if (j > 200) throw new Error(`address not restored in round ${i}`);
        await sleep(5);
      }
      await sleep(20);
    }
    await sleep(200);
    for (const busy of load) busy.kill("SIGKILL");
    monitor.kill("SIGTERM");
    await monitor.exited;

    // Pair each deletion of the held address with the next re-addition.
    const latencies: number[] = [];
    let deletedAt: number | undefined;
    let firstHeldAt: number | undefined;
    const lines = createInterface({
      input: (await import("node:fs")).createReadStream(join(dir, "monitor.log")),
    });
    for await (const line of lines) {
      if (!line.includes(CIDR)) continue;
      const at = stamp(line);
      if (at === undefined) continue;
      if (line.includes("Deleted")) deletedAt = at;
      else if (firstHeldAt === undefined) firstHeldAt = at;
      else if (deletedAt !== undefined) {
        latencies.push(at - deletedAt);
        deletedAt = undefined;
      }
    }
    latencies.sort((a, b) => a - b);

    await sleep(idleSeconds * 1000);
    const statm = readFileSync(`/proc/${agent.pid}/status`, "utf8");
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(statm)?.[1] ?? NaN);
    // RssAnon is the process's own memory (heap, JIT code); RssFile is mostly the node binary, shared.
    const anonKb = Number(/RssAnon:\s+(\d+)/.exec(statm)?.[1] ?? NaN);
    const fileKb = Number(/RssFile:\s+(\d+)/.exec(statm)?.[1] ?? NaN);
    const stat = readFileSync(`/proc/${agent.pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    const ticks = Number(stat[11]) + Number(stat[12]);
    const nodeVersion = (await ns.exec(values.node, ["--version"])).stdout.trim();
    agent.kill("SIGTERM");
    await agent.exited;
    const announcements = /^holdfast_arp_announcements_total\{interface="pn0"\} (\d+)/m.exec(
      readFileSync(join(dir, "holdfast.prom"), "utf8"),
    )?.[1];

    const f = (n: number) => n.toFixed(1);
    console.log(
      `restore-latency, announcing ${arp} (${nodeVersion} ${nodeOptions.join(" ") || "(no node options)"}, nice ${values.nice}, ${values.load} busy loops, ${latencies.length}/${rounds} deletions paired from ip -ts monitor)`,
    );
    console.log(`  announcements sent: ${announcements ?? "?"} (${rounds} deletions; at most 1 per 2 s)`);
    console.log(`  agent start to address held: ${f((firstHeldAt ?? NaN) - spawnedAt)} ms (static address)`);
    console.log(
      `  p50 ${f(percentile(latencies, 50))} ms   p99 ${f(percentile(latencies, 99))} ms   max ${f(latencies.at(-1) ?? NaN)} ms`,
    );
    console.log(
      `  agent after ${idleSeconds}s idle: RSS ${(rssKb / 1024).toFixed(1)} MB (own ${(anonKb / 1024).toFixed(1)} MB, node binary and files ${(fileKb / 1024).toFixed(1)} MB), CPU ${(ticks / 100).toFixed(2)} s total`,
    );
    console.log(
      `  targets: p99 <= 20 ms (${percentile(latencies, 99) <= 20 ? "met" : "MISSED"}), RSS <= 60 MB (${rssKb / 1024 <= 60 ? "met" : "MISSED"})`,
    );
  } finally {
    await ns.destroy();
  }
}
