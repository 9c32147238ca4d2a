import { AGENT_NODE_OPTIONS } from "../agent/node-options.js";
import type { Config } from "../config/schema.js";
import { NODE_PATHS, generatedMarker, resolveRunAlias } from "./paths.js";
import { SystemdUnit, type IniEntry } from "./systemd-unit.js";

// Only these are needed by the agent (ip link/addr/route: NET_ADMIN), the DHCP clients'
// packet sockets (NET_RAW) and dhclient's / dhcpcd's UDP socket on port 68, which is
// privileged even for uid 0 once the bounding set drops everything else (NET_BIND_SERVICE).
const NET_CAPABILITIES = ["CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_NET_BIND_SERVICE"];
// dhcpcd >= 9 separates privileges: it chroots to /usr/lib/dhcpcd and drops to its own
// user, and its packet-receiving child exits when that fails ("ps_dropprivs: chroot:
// Operation not permitted"). So a unit that may run dhcpcd (dhcpClient dhcpcd or auto) also
// gets these, and chroot(2) (in @mount) with @setuid; its exposure score rises from 1.9 to
// 2.5 (test/render/unit-tools.test.ts measures both). SETUID also lets the agent end
// dhcpcd's processes as their own user, where root without CAP_KILL may not (util/exec.ts).
const DHCPCD_CAPABILITIES = ["CAP_SETUID", "CAP_SETGID", "CAP_SYS_CHROOT"];
const DHCPCD_SYSCALLS = ["chroot", "@setuid"];
// dhcpcd's run and db dirs are compiled in, and in test mode it locks /run/.pid: the unit
// gives it private ones, so the agent needs no mount namespace (CAP_SYS_ADMIN, 0.4 more
// exposure) of its own to keep dhcpcd off the host's (src/dhcp/dhcpcd.ts, "service").
const DHCPCD_PRIVATE_DIRS = ["/run:mode=0755", "/var/lib/dhcpcd:mode=0700"];

const DEFAULT_STATE_PARENT = "/var/lib/";
const DEFAULT_RUNTIME_PARENT = "/run/";

/** Whether an attachment may start dhcpcd (its privilege separation needs more rights). */
export function mayRunDhcpcd(config: Config): boolean {
  return config.attachments.some(
    (a) =>
      a.address.source === "dhcp" && (a.address.dhcpClient === "dhcpcd" || a.address.dhcpClient === "auto"),
  );
}

const LOOPBACK_HOST = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/;

/** Metrics served only on loopback (or not at all) let the unit deny all other IP traffic. */
function metricsOnLoopback(config: Config): boolean {
  const listen = config.metrics?.listen;
  if (listen === undefined) return true;
  return LOOPBACK_HOST.test(listen.slice(0, listen.lastIndexOf(":")));
}

function dirname(path: string): string {
  return path.slice(0, path.lastIndexOf("/")) || "/";
}

/**
 * The RuntimeDirectory= name of a runDir under /run (or /var/run, which links to it). /run
 * is emptied at every boot, so such a directory must be one systemd makes at each start:
 * ReadWritePaths= on a missing one fails the unit (226/NAMESPACE) in a restart loop.
 */
function runtimeDirectoryName(runDir: string): string | undefined {
  const path = resolveRunAlias(runDir);
  return path.startsWith(DEFAULT_RUNTIME_PARENT) ? path.slice(DEFAULT_RUNTIME_PARENT.length) : undefined;
}

/**
 * Writable places. ProtectSystem=strict makes everything else read-only. A stateDir under
 * /var/lib and a runDir under /run become StateDirectory= / RuntimeDirectory= (systemd
 * creates them with the right mode); any other directory must exist, so the install script
 * creates it (spec.ts keeps those out of trees that vanish at boot).
 */
function writablePaths(config: Config): IniEntry[] {
  const entries: IniEntry[] = [];
  if (config.stateDir.startsWith(DEFAULT_STATE_PARENT)) {
    entries.push(
      ["StateDirectory", config.stateDir.slice(DEFAULT_STATE_PARENT.length)],
      ["StateDirectoryMode", "0700"],
    );
  } else {
    // what StateDirectory= would tell the agent: where it keeps the config it validated
    // (src/config/snapshot.ts), so a restart holds without validating it again
    entries.push(["ReadWritePaths", config.stateDir], ["Environment", `STATE_DIRECTORY=${config.stateDir}`]);
  }
  const runtimeDirectory = runtimeDirectoryName(config.runDir);
  if (runtimeDirectory !== undefined) {
    // Preserved across restarts: status.json outlives an agent restart for `holdfast status`.
    entries.push(
      ["RuntimeDirectory", runtimeDirectory],
      ["RuntimeDirectoryMode", "0755"],
      ["RuntimeDirectoryPreserve", "yes"],
    );
  } else entries.push(["ReadWritePaths", config.runDir]);
  // "-": a missing node-exporter directory must not stop the agent from holding addresses.
  if (config.metrics?.textfile) entries.push(["ReadWritePaths", `-${dirname(config.metrics.textfile)}`]);
  if (mayRunDhcpcd(config)) {
    entries.push(["TemporaryFileSystem", DHCPCD_PRIVATE_DIRS]);
    // What the agent writes under /run must stay on the host's, or `holdfast status` and
    // node_exporter would read an empty directory ("-": the textfile's may be missing).
    const underRun = (path: string) => resolveRunAlias(path).startsWith(DEFAULT_RUNTIME_PARENT);
    const shared: string[] = [];
    if (underRun(config.runDir)) shared.push(resolveRunAlias(config.runDir));
    const textfileDir = config.metrics?.textfile ? dirname(config.metrics.textfile) : undefined;
    if (textfileDir !== undefined && underRun(textfileDir)) shared.push(`-${resolveRunAlias(textfileDir)}`);
    if (shared.length > 0) entries.push(["BindPaths", shared]);
  }
  return entries;
}

/** Directories the unit needs to exist before it starts (created by the install script). */
export function directoriesToCreate(config: Config): string[] {
  const dirs: string[] = [];
  if (!config.stateDir.startsWith(DEFAULT_STATE_PARENT)) dirs.push(config.stateDir);
  if (runtimeDirectoryName(config.runDir) === undefined) dirs.push(config.runDir);
  if (config.metrics?.textfile) dirs.push(dirname(config.metrics.textfile));
  return dirs;
}

function sandbox(config: Config): IniEntry[] {
  const dhcpcd = mayRunDhcpcd(config);
  const entries: IniEntry[] = [
    ["CapabilityBoundingSet", [...NET_CAPABILITIES, ...(dhcpcd ? DHCPCD_CAPABILITIES : [])]],
    // Runs as root (DHCP clients expect it; dhcpcd drops to its own user itself), so no
    // AmbientCapabilities: root's capabilities are exactly the bounding set above.
    ["NoNewPrivileges", true],
    ["UMask", "0077"],
    ["ProtectSystem", "strict"],
    ["ProtectHome", true],
    ["PrivateTmp", true],
    ["PrivateDevices", true],
    ["PrivateMounts", true],
    ["ProtectKernelTunables", true],
    ["ProtectKernelModules", true],
    ["ProtectKernelLogs", true],
    ["ProtectControlGroups", true],
    ["ProtectClock", true],
    ["ProtectHostname", true],
    ["ProtectProc", "invisible"],
    ["ProcSubset", "pid"],
    // AF_PACKET: the DHCP clients' raw sockets. AF_INET6 costs no exposure and keeps
    // dhcpcd, which opens IPv6 sockets when built with INET6, from failing at start.
    ["RestrictAddressFamilies", ["AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK", "AF_PACKET"]],
    ["RestrictNamespaces", true],
    ["RestrictRealtime", true],
    ["RestrictSUIDSGID", true],
    ["LockPersonality", true],
    // Only because the agent runs --jitless (AGENT_NODE_OPTIONS): V8's compilers map code
    // pages writable, then executable, and Node dies of SIGTRAP at start under this without it.
    ["MemoryDenyWriteExecute", true],
    ["KeyringMode", "private"],
    ["SystemCallArchitectures", "native"],
    ["SystemCallFilter", "@system-service"],
    ["SystemCallFilter", "~@privileged @resources"],
  ];
  if (dhcpcd) entries.push(["SystemCallFilter", DHCPCD_SYSCALLS]);
  // EPERM instead of SIGSYS: Node raises RLIMIT_NOFILE at start and copes with a refusal.
  entries.push(["SystemCallErrorNumber", "EPERM"]);
  if (metricsOnLoopback(config)) {
    // DHCP runs over packet sockets, which IP address filters do not see; IP sockets
    // are only needed for the metrics endpoint on loopback.
    entries.push(["IPAddressDeny", "any"], ["IPAddressAllow", "localhost"]);
  }
  return entries;
}

/** The hardened `holdfast.service` for a config. */
export function agentUnit(config: Config, configPath: string = NODE_PATHS.config): SystemdUnit {
  return new SystemdUnit({
    header: [generatedMarker("the holdfast agent's systemd unit")],
    sections: [
      {
        name: "Unit",
        entries: [
          ["Description", "holdfast: hold private-network addresses fast"],
          ["Documentation", "https://www.npmjs.com/package/holdfast"],
          // Up before the network is declared up and before what uses the private
          // network, but never waiting for network-online.target: nothing it needs is there.
          ["After", ["network-pre.target", "systemd-udevd.service"]],
          ["Wants", "network.target"],
          ["Before", ["network.target", "kubelet.service"]],
          // Never give up restarting: a held address matters more than a crash loop's noise.
          ["StartLimitIntervalSec", 0],
        ],
      },
      {
        name: "Service",
        entries: [
          ["Type", "exec"],
          ["ExecStart", `${NODE_PATHS.launcher} agent --config ${configPath}`],
          // read by the launcher; quoted: systemd splits Environment= on spaces
          ["Environment", `"HOLDFAST_NODE_OPTIONS=${AGENT_NODE_OPTIONS.join(" ")}"`],
          ["Restart", "always"],
          ["RestartSec", "1s"],
          // Ten times the default share of CPU when the node is busy (kubelet, containers, a
          // cache in other cgroups), for the agent and every `ip`/arping it forks: restore p99
          // with 4 busy loops on 2 CPUs in a sibling cgroup fell from 255 ms to 9 ms
          // (bench/restore-latency.ts --load 4 --load-cgroup --cpu-weight 100,1000). A weight
          // only matters when the CPU is contended, and the agent idles at a few ms a minute.
          ["CPUWeight", 1000],
          ...writablePaths(config),
          ...sandbox(config),
        ],
      },
      { name: "Install", entries: [["WantedBy", "multi-user.target"]] },
    ],
  });
}
