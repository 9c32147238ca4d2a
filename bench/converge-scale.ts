/**
 * bench/converge-scale: `holdfast converge` (the real CLI, the system's OpenSSH client)
 * against N lightweight hosts that are installed and unchanged, at several concurrencies:
 * wall time, per-host time, and the ssh sessions and Node.js starts each host cost.
 *
 *   npm run build && npx tsx bench/converge-scale.ts [--hosts 1,10,25,50] \
 *     [--concurrency 10,25,50] [--repeats 3] [--bundle dist/holdfast.mjs]
 *
 * A host is a network namespace (pn0 on a bridge in a "runner" namespace this run made; no
 * link to the root namespace; 198.18.0.0/22) running its own sshd (key auth for root, its
 * own host key and config in a temp dir) and a real agent holding a static address, both in
 * one private mount namespace (`unshare -m`) whose /etc, /usr/local, /usr/bin and /var/lib
 * are overlays with writes going to the temp dir, and whose /run is a tmpfs: the host's real
 * files are never written. The overlays carry the files at the paths the probe checks, the
 * very files converge renders (same sha256s), so every host's plan is `unchanged`.
 *
 * Stand-ins, because a host here has no systemd: `/run/systemd/system` exists (the probe's
 * "runs systemd" test), and `systemctl` (in /usr/local/sbin, first on the probe's PATH)
 * answers `active` / `enabled` for holdfast.service and `inactive` for everything else.
 * root's ~/.bashrc is Debian's default (/etc/skel: returns at once when not interactive).
 * sshd runs with `UsePAM no` (no logind here): a real node also opens a PAM session per ssh
 * connection. Node.js starts are counted by a `node` wrapper in the host's /usr/bin overlay
 * (one `sh` exec per start) that runs the real binary, bind-mounted into the temp dir.
 *
 * Everything (namespaces by name, sshd and agents by PID, the temp dir) is removed on
 * success, failure and Ctrl-C. Needs root.
 */
import { execFileSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { stringify } from "yaml";
import type { ConvergeReport } from "../src/converge/report.js";
import { Netns } from "../src/harness/netns.js";
import { ip, plugIn } from "../src/harness/node-link.js";
import { AGENT_NODE_OPTIONS } from "../src/agent/node-options.js";
import { renderUnitsFromSpec } from "../src/render/index.js";
import { NODE_PATHS } from "../src/render/paths.js";
import { parseSpec } from "../src/render/spec.js";
import { VERSION } from "../src/version.js";
import { signalPid } from "../src/util/exec.js";

const { values } = parseArgs({
  options: {
    hosts: { type: "string", default: "1,10,25,50" },
    concurrency: { type: "string", default: "10,25,50" },
    repeats: { type: "string", default: "3" },
    bundle: { type: "string", default: "dist/holdfast.mjs" },
    /** set up, print how to reach the hosts, and wait for Ctrl-C (for profiling by hand) */
    pause: { type: "boolean", default: false },
  },
});
const list = (text: string): number[] =>
  text
    .split(",")
    .map(Number)
    .filter((n) => n > 0);
const sizes = list(values.hosts).sort((a, b) => a - b);
const concurrencies = list(values.concurrency).sort((a, b) => a - b);
const repeats = Number(values.repeats);
const hostCount = Math.max(...sizes);
if (process.getuid?.() !== 0) {
  console.error("bench/converge-scale needs root (namespaces, mounts)");
  process.exit(2);
}
if (hostCount > 190) {
  console.error("bench/converge-scale: at most 190 hosts (198.18.0.10-199)");
  process.exit(2);
}
for (const tool of ["/usr/sbin/sshd", "/usr/bin/ssh-keygen", "/usr/bin/unshare"])
  if (!existsSync(tool)) {
    console.error(`bench/converge-scale: ${tool} missing`);
    process.exit(2);
  }

const workDir = mkdtempSync(join(tmpdir(), "hf-bench-scale-"));
const prefix = `hfcs${process.pid % 100_000}`;
const namespaces: Netns[] = [];
const pids: number[] = [];
let cleaning: Promise<void> | undefined;

async function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const pid of pids) signalPid(pid, "SIGTERM");
    await sleep(300);
    for (const pid of pids) signalPid(pid, "SIGKILL");
    // anything else in a namespace of ours (probe leftovers) goes with it, by pid
    for (const ns of namespaces.reverse()) await ns.destroy().catch((e: unknown) => console.error(String(e)));
    rmSync(workDir, { recursive: true, force: true });
  })();
  return cleaning;
}
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.on(signal, () => {
    console.error(`\n${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });

const hostIp = (i: number): string => `198.18.0.${10 + i}`;
const hostName = (i: number): string => `h${i + 1}`;
const hostDir = (i: number): string => join(workDir, hostName(i));

/** One host's mount namespace: overlays, a private /run, the agent, then sshd (this pid). */
const HOST_SCRIPT = `#!/bin/bash
# one bench host, already in its network namespace, in a private mount namespace (unshare -m)
set -eu
h=$1
mount --make-rprivate /
# the real node binary, for the counting wrapper in the /usr/bin overlay
mount --bind /usr/bin/node "$h/node.real"
for d in etc usr/local usr/bin var/lib root; do
  n=\${d//\\//-}
  mkdir -p "$h/$n-up" "$h/$n-work"
  mount -t overlay overlay -o "lowerdir=/$d,upperdir=$h/$n-up,workdir=$h/$n-work" "/$d"
done
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /run/sshd /run/systemd/system /run/holdfast
HOLDFAST_NODE_OPTIONS="${AGENT_NODE_OPTIONS.join(" ")}" setsid ${NODE_PATHS.launcher} agent --config ${NODE_PATHS.config} >"$h/agent.log" 2>&1 </dev/null &
echo $! >"$h/agent.pid"
exec /usr/sbin/sshd -D -f "$h/sshd_config" -E "$h/sshd.log"
`;

const SYSTEMCTL_STANDIN = `#!/bin/sh
# bench stand-in: a bench host has no systemd; holdfast.service is the only unit, running
verb=$1
shift
for unit in "$@"; do
  case "$verb $unit" in
    "is-active holdfast.service") echo active ;;
    "is-enabled holdfast.service") echo enabled ;;
    is-active*) echo inactive ;;
    is-enabled*) echo disabled ;;
    *) echo "bench systemctl: $verb $*" >&2; exit 1 ;;
  esac
done
`;

function write(path: string, content: string, mode = 0o644): void {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, content, { mode });
}

function specDocument(i: number): Record<string, unknown> {
  return {
    version: 1,
    node: { name: hostName(i), bootstrapUser: "root" },
    agent: {
      install: "embedded",
      config: {
        version: 1,
        attachments: [
          {
            interface: "pn0",
            link: { kind: "existing" },
            address: { source: "static", cidr: `${hostIp(i)}/22` },
            reconcileInterval: "30s",
          },
        ],
      },
    },
  };
}

/** The files converge would push, in the host's overlay upper dirs; its sshd config and key. */
function prepareHost(i: number, bundle: string, bundleVersion: string, authorizedKeys: string): string {
  const h = hostDir(i);
  mkdirSync(h, { recursive: true });
  writeFileSync(join(h, "node.real"), "");
  const doc = specDocument(i);
  const specFile = join(workDir, `spec-${hostName(i)}.yaml`);
  writeFileSync(specFile, stringify(doc));
  const upper = (path: string): string => {
    for (const [dir, name] of [
      ["/etc/", "etc-up"],
      ["/usr/local/", "usr-local-up"],
    ] as const)
      if (path.startsWith(dir)) return join(h, name, path.slice(dir.length));
    throw new Error(`no overlay for ${path}`);
  };
  // what converge renders for this host: the sources' render, stamped with the bundle's
  // version as the bundle stamps it (one Node.js start per host saved; the warm-up run
  // proves every file equal, or no host would be unchanged)
  for (const file of renderUnitsFromSpec(parseSpec(doc)))
    write(
      upper(file.path),
      file.content.replaceAll(`holdfast ${VERSION}:`, `holdfast ${bundleVersion}:`),
      file.mode,
    );
  mkdirSync(join(upper(NODE_PATHS.bundle), ".."), { recursive: true });
  linkSync(bundle, upper(NODE_PATHS.bundle));
  write(join(h, "usr-local-up/sbin/systemctl"), SYSTEMCTL_STANDIN, 0o755);
  // a fresh node's root: Debian's default .bashrc, which returns at once when not
  // interactive (this machine's own root runs pyenv and more there, ~3 s a session)
  write(join(h, "root-up/.bashrc"), readFileSync("/etc/skel/.bashrc", "utf8"));
  write(join(h, "root-up/.profile"), readFileSync("/etc/skel/.profile", "utf8"));
  write(
    join(h, "usr-bin-up/node"),
    `#!/bin/sh\necho "$$ $*" >>${h}/node-starts\nexec ${h}/node.real "$@"\n`,
    0o755,
  );
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(h, "host_key")]);
  writeFileSync(
    join(h, "sshd_config"),
    [
      "ListenAddress 0.0.0.0:22",
      `HostKey ${h}/host_key`,
      `AuthorizedKeysFile ${authorizedKeys}`,
      "PermitRootLogin prohibit-password",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "UsePAM no",
      "UseDNS no",
      "StrictModes no",
      "PidFile none",
      "MaxStartups 200",
      "LogLevel VERBOSE",
      "",
    ].join("\n"),
  );
  return `${hostIp(i)} ${readFileSync(join(h, "host_key.pub"), "utf8").trim()}`;
}

/** CPU seconds (user + system) of the children a process waited for: stat fields 16 and 17. */
function reapedCpuSeconds(pid: number | "self"): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // field 16 is index 13 after the comm; USER_HZ is 100 on Linux
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

const lineCount = (file: string, pattern: RegExp): number =>
  existsSync(file)
    ? readFileSync(file, "utf8")
        .split("\n")
        .filter((l) => pattern.test(l)).length
    : 0;

interface Cell {
  readonly hosts: number;
  readonly concurrency: number;
  readonly wallMs: number[];
  readonly p50Ms: number[];
  readonly maxMs: number[];
  /** hosts not `unchanged`, over all repeats */
  failed: number;
  sshPerHost: number;
  nodePerHost: number;
  /** CPU seconds a host cost: on the host, and in converge and its ssh client */
  hostCpuPerHost: number;
  controllerCpuPerHost: number;
}

try {
  const bundle = join(workDir, "holdfast.mjs");
  // a private copy: a rebuild of dist/ during the run must not turn "unchanged" into "upgrade"
  copyFileSync(resolve(values.bundle), bundle);
  const bundleVersion = execFileSync(process.execPath, [bundle, "--version"], { encoding: "utf8" }).trim();
  const setupStarted = performance.now();
  const runner = await Netns.create(`${prefix}r`);
  namespaces.push(runner);
  await ip(["-n", runner.name, "link", "add", "br0", "type", "bridge"]);
  await ip(["-n", runner.name, "addr", "add", "198.18.0.200/22", "dev", "br0"]);
  await ip(["-n", runner.name, "link", "set", "br0", "up"]);
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(workDir, "id")]);
  const authorizedKeys = join(workDir, "authorized_keys");
  copyFileSync(join(workDir, "id.pub"), authorizedKeys);
  writeFileSync(join(workDir, "host.sh"), HOST_SCRIPT, { mode: 0o755 });
  const knownHosts: string[] = [];
  const sshd: number[] = [];
  for (let i = 0; i < hostCount; i++) {
    const ns = await Netns.create(`${prefix}h${i + 1}`);
    namespaces.push(ns);
    const mac = `02:5c:00:00:${(i >> 8).toString(16).padStart(2, "0")}:${(i & 255).toString(16).padStart(2, "0")}`;
    await plugIn(runner, ns, `v${i + 1}`, "pn0", mac);
    knownHosts.push(prepareHost(i, bundle, bundleVersion, authorizedKeys));
    const proc = ns.spawn(
      "unshare",
      ["-m", "--propagation", "private", "bash", join(workDir, "host.sh"), hostDir(i)],
      {
        stdout: join(hostDir(i), "host.log"),
      },
    );
    pids.push(proc.pid);
    sshd.push(proc.pid);
  }
  writeFileSync(join(workDir, "known_hosts"), `${knownHosts.join("\n")}\n`);
  const sshConfig = join(workDir, "ssh_config");
  writeFileSync(
    sshConfig,
    [
      "Host *",
      "  User root",
      `  IdentityFile ${join(workDir, "id")}`,
      "  IdentitiesOnly yes",
      `  UserKnownHostsFile ${join(workDir, "known_hosts")}`,
      "  GlobalKnownHostsFile /dev/null",
      "",
    ].join("\n"),
  );
  for (const n of sizes) {
    const inventory = {
      version: 1,
      defaults: { user: "root", port: 22 },
      hosts: Array.from({ length: n }, (_, i) => ({
        name: hostName(i),
        address: hostIp(i),
        spec: `./spec-${hostName(i)}.yaml`,
      })),
    };
    writeFileSync(join(workDir, `inventory-${n}.yaml`), stringify(inventory));
  }

  // every agent holds its address (its status says so, read through its own mount namespace)
  const deadline = Date.now() + 240_000;
  for (let i = 0; i < hostCount; i++) {
    const pidFile = join(hostDir(i), "agent.pid");
    for (;;) {
      const agentPid = existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8")) : 0;
      if (agentPid > 0 && !pids.includes(agentPid)) pids.unshift(agentPid);
      const status = agentPid > 0 ? `/proc/${sshd[i]}/root/run/holdfast/status.json` : "";
      const held =
        status !== "" && existsSync(status) && readFileSync(status, "utf8").includes('"state": "held"');
      if (held) break;
      if (Date.now() > deadline)
        throw new Error(`${hostName(i)}: agent not holding after 240 s; see ${hostDir(i)}`);
      await sleep(200);
    }
  }
  console.log(
    `${hostCount} hosts up (sshd + a real agent holding each) in ${((performance.now() - setupStarted) / 1000).toFixed(1)} s`,
  );

  const converge = async (
    n: number,
    concurrency: number,
    dryRun = false,
  ): Promise<{ wallMs: number; report: ConvergeReport }> => {
    const started = performance.now();
    const result = await runner.exec(
      process.execPath,
      [
        bundle,
        "converge",
        "--inventory",
        join(workDir, `inventory-${n}.yaml`),
        "--json",
        "--ssh-config",
        sshConfig,
        "--concurrency",
        String(concurrency),
        ...(dryRun ? ["--dry-run"] : []),
      ],
      { timeoutMs: 900_000 },
    );
    const wallMs = performance.now() - started;
    let report: ConvergeReport;
    try {
      report = JSON.parse(result.stdout) as ConvergeReport;
    } catch {
      throw new Error(`converge printed no report (exit ${result.code}): ${result.stderr.slice(-2000)}`);
    }
    const notUnchanged = dryRun ? [] : report.hosts.filter((h) => h.outcome !== "unchanged");
    for (const h of notUnchanged.slice(0, 3))
      console.log(
        `  ${h.name}: ${h.outcome} at ${h.failedAt ?? "-"}: ${h.error ?? h.plan?.reasons.join("; ") ?? ""}`,
      );
    return { wallMs, report };
  };

  if (values.pause) {
    console.log(
      `paused; e.g. ip netns exec ${runner.name} ssh -F ${sshConfig} ${hostIp(0)} true   (Ctrl-C cleans up)`,
    );
    await new Promise(() => undefined);
  }
  // warm-up (page cache, sshd's first accept): all unchanged, or the bench is wrong
  // a dry run, so a host that is not unchanged is found, not converged
  const warm = await converge(hostCount, Math.min(hostCount, 50), true);
  const off = warm.report.hosts.filter((h) => h.plan?.kind !== "unchanged");
  if (off.length > 0)
    throw new Error(`not unchanged before the runs: ${JSON.stringify(off.slice(0, 2), null, 2)}`);
  const counts = (n: number) => {
    let ssh = 0;
    let node = 0;
    // CPU seconds, whatever the load: the hosts' side is what each sshd reaped (its sessions
    // and all they ran); the controller's is what this process reaped (converge and its ssh)
    let hostCpu = 0;
    for (let i = 0; i < n; i++) {
      ssh += lineCount(join(hostDir(i), "sshd.log"), /Accepted publickey/);
      node += lineCount(join(hostDir(i), "node-starts"), /./);
      hostCpu += reapedCpuSeconds(sshd[i]!);
    }
    return { ssh, node, hostCpu, controllerCpu: reapedCpuSeconds("self") };
  };

  const cells: Cell[] = [];
  for (const n of sizes)
    for (const concurrency of concurrencies.filter((c, k) => c <= n || (k === 0 && n < c))) {
      const c = Math.min(concurrency, n);
      const cell: Cell = {
        hosts: n,
        concurrency: c,
        wallMs: [],
        p50Ms: [],
        maxMs: [],
        failed: 0,
        sshPerHost: 0,
        nodePerHost: 0,
        hostCpuPerHost: 0,
        controllerCpuPerHost: 0,
      };
      const before = counts(n);
      for (let r = 0; r < repeats; r++) {
        const { wallMs, report } = await converge(n, c);
        const per = report.hosts.map((h) => h.durationMs).sort((a, b) => a - b);
        cell.wallMs.push(wallMs);
        cell.p50Ms.push(percentile(per, 0.5));
        cell.maxMs.push(per.at(-1)!);
        cell.failed += report.hosts.filter((h) => h.outcome !== "unchanged").length;
      }
      const after = counts(n);
      cell.sshPerHost = (after.ssh - before.ssh) / (n * repeats);
      cell.nodePerHost = (after.node - before.node) / (n * repeats);
      cell.hostCpuPerHost = (after.hostCpu - before.hostCpu) / (n * repeats);
      cell.controllerCpuPerHost = (after.controllerCpu - before.controllerCpu) / (n * repeats);
      cells.push(cell);
      const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
      const s = (ms: number[]) => ms.map((m) => (m / 1000).toFixed(2)).join("/");
      console.log(
        `N=${n} c=${c}: wall ${s(cell.wallMs)} s, per host p50 ${s(cell.p50Ms)} s, max ${s(cell.maxMs)} s; ` +
          `per host ${cell.sshPerHost.toFixed(2)} ssh sessions, ${cell.nodePerHost.toFixed(2)} Node.js starts; ` +
          `CPU per host ${cell.hostCpuPerHost.toFixed(3)} s on it + ${cell.controllerCpuPerHost.toFixed(3)} s in converge; load ${load}`,
      );
    }

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log("\nmedians of the repeats (unchanged hosts):");
  console.log(
    "| N | concurrency | wall | wall / N | per host p50 | per host max | ssh / host | Node.js starts / host | CPU / host: on it + converge | not unchanged |",
  );
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const c of cells)
    console.log(
      `| ${c.hosts} | ${c.concurrency} | ${(median(c.wallMs) / 1000).toFixed(2)} s | ${(median(c.wallMs) / c.hosts / 1000).toFixed(2)} s | ` +
        `${(median(c.p50Ms) / 1000).toFixed(2)} s | ${(median(c.maxMs) / 1000).toFixed(2)} s | ${c.sshPerHost.toFixed(1)} | ${c.nodePerHost.toFixed(1)} | ${c.hostCpuPerHost.toFixed(2)} + ${c.controllerCpuPerHost.toFixed(2)} s | ${c.failed} |`,
    );
  // time against N, one row per concurrency: a bar per cell, 1 char = 1 s
  const widest = Math.max(...cells.map((c) => median(c.wallMs)));
  const scale = widest > 60_000 ? widest / 60 : 1000;
  console.log(`\nwall time against N (one # = ${(scale / 1000).toFixed(1)} s):`);
  for (const c of cells)
    console.log(
      `N=${String(c.hosts).padStart(3)} c=${String(c.concurrency).padStart(2)} ${"#".repeat(Math.max(1, Math.round(median(c.wallMs) / scale)))} ${(median(c.wallMs) / 1000).toFixed(1)} s`,
    );
} catch (error) {
  console.error(`bench/converge-scale failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
