import { spawn } from "node:child_process";
import { appendFileSync, closeSync, openSync, readFileSync, readlinkSync } from "node:fs";

/** systemd-nspawn's exit status when the container asked for a reboot (systemd-nspawn(1)). */
export const NSPAWN_REBOOT_EXIT = 133;

export interface NspawnOptions {
  readonly rootfs: string;
  /** the node's own writable layer over the shared rootfs */
  readonly upperDir: string;
  /** host-unique container name */
  readonly machine: string;
  /** /run/netns/<node ns>: the container joins the lab node's network namespace */
  readonly netnsPath: string;
  /** cgroup.procs files the launcher moves itself into before it execs nspawn */
  readonly cgroupProcs: readonly string[];
  /** container console and nspawn messages are appended here */
  readonly consoleLog: string;
}

export interface NspawnProcess {
  readonly pid: number;
  /** nspawn's exit status (133: the container rebooted), null if it could not start */
  readonly exited: Promise<number | null>;
}

/**
 * Why each flag:
 * --register=no --keep-unit: there may be no systemd/machined on the host to ask for a scope
 *   (PID 1 of the lab machine is not always systemd); nspawn stays in the cgroup we chose.
 * --overlay: every node writes to its own upper dir; the rootfs is shared and never changes.
 * --capability=CAP_NET_ADMIN: the node manages pn0 (agent, dhclient); nspawn only grants it
 *   by default with a private network it made itself.
 * --private-users=no: host root owns the rootfs; no uid shifting needed or wanted.
 * --console=pipe: no tty; the console goes to the log file.
 * --resolv-conf=off --timezone=off --link-journal=no: nothing of the host leaks in or out
 *   (dhclient-script may rewrite the node's /etc/resolv.conf: it is the node's own).
 */
function nspawnArgs(options: NspawnOptions): string[] {
  return [
    "--quiet", "--register=no", "--keep-unit", "--boot",
    `--directory=${options.rootfs}`, `--overlay=${options.rootfs}:${options.upperDir}:/`,
    `--machine=${options.machine}`, `--network-namespace-path=${options.netnsPath}`,
    "--capability=CAP_NET_ADMIN", "--private-users=no", "--console=pipe",
    "--resolv-conf=off", "--timezone=off", "--link-journal=no",
  ]; // prettier-ignore
}

/** Starts one boot of a container: a shell joins the node's cgroups, then execs nspawn. */
export function startNspawn(options: NspawnOptions): NspawnProcess {
  const script = 'for f in $HOLDFAST_CGROUP_PROCS; do echo $$ > "$f"; done; exec "$@"';
  appendFileSync(options.consoleLog, `--- holdfast: boot at ${new Date().toISOString()}\n`);
  const log = openSync(options.consoleLog, "a");
  let child;
  try {
    child = spawn("sh", ["-ec", script, "sh", "systemd-nspawn", ...nspawnArgs(options)], {
      detached: true,
      stdio: ["ignore", log, log],
      env: {
        ...process.env,
        HOLDFAST_CGROUP_PROCS: options.cgroupProcs.join(" "),
        // several nodes share one read-only lower tree: nspawn's image lock would refuse that
        SYSTEMD_NSPAWN_LOCK: "0",
      },
    });
  } finally {
    closeSync(log);
  }
  if (child.pid === undefined) throw new Error(`${options.machine}: could not start systemd-nspawn`);
  const exited = new Promise<number | null>((resolve) => {
    child.on("error", () => resolve(null));
    child.on("exit", (code) => resolve(code));
  });
  return { pid: child.pid, exited };
}

function pidNamespace(pid: number | "self"): string {
  return readlinkSync(`/proc/${pid}/ns/pid`);
}

/** nspawn's payload is its direct child; it is the container's init once it has exec'd systemd. */
export function findLeader(nspawnPid: number): number | undefined {
  let children: string;
  try {
    children = readFileSync(`/proc/${nspawnPid}/task/${nspawnPid}/children`, "utf8");
  } catch {
    return undefined;
  }
  for (const word of children.trim().split(/\s+/).filter(Boolean)) {
    const pid = Number(word);
    try {
      const comm = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
      if (comm === "systemd" && pidNamespace(pid) !== pidNamespace("self")) return pid;
    } catch {
      // the child went away between the two reads
    }
  }
  return undefined;
}
