import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { inPrivateMounts } from "./private-mounts.js";
import type { Impl } from "./types.js";

/** dhcpcd's compiled-in lease database (strings /usr/sbin/dhcpcd): per-run copies are bind-mounted here. */
const DHCPCD_DBDIR = "/var/lib/dhcpcd";
const DHCPCD_RUNDIR = "/run/dhcpcd";

export function dhcpcdConfig(): string {
  return [
    "# holdfast lab: dhcpcd as the persistent alternative",
    "# keep the address when dhcpcd exits, and past lease expiry (violates RFC 2131 §3.7 on purpose)",
    "persistent",
    "lastleaseextend",
    // as Debian's /etc/dhcpcd.conf: the classless route reaches the server for unicast renewals
    "option classless_static_routes",
    "option interface_mtu",
    "option rapid_commit",
    "require dhcp_server_identifier",
    "ipv4only",
    // IPv4LL would put a 169.254/16 address on pn0: not the lab's to use
    "noipv4ll",
    // no hooks: resolv.conf, hostname and NTP hooks would reach into the host
    "script /bin/true",
    "",
  ].join("\n");
}

/**
 * dhcpcd in the foreground with `persistent` and `lastleaseextend`. Its lease database and
 * run directory are compiled in, so parallel runs (all on an interface called pn0) each get
 * a private mount namespace with the run's own directories bind-mounted over them; the
 * state copy survives a simulated reboot like /var/lib/dhcpcd would.
 */
export const dhcpcd: Impl = {
  name: "dhcpcd",
  summary: "dhcpcd -B with persistent + lastleaseextend",
  requires: [
    { command: "dhcpcd", pkg: "dhcpcd-base" },
    { command: "unshare", pkg: "util-linux" },
  ],
  async prepare(ctx) {
    const conf = join(ctx.dir, "dhcpcd.conf");
    const db = join(ctx.stateDir, "dhcpcd");
    const runDir = join(ctx.runDir, "dhcpcd");
    await mkdir(db, { recursive: true });
    await mkdir(runDir, { recursive: true });
    await writeFile(conf, dhcpcdConfig());
    // mount over /run/dhcpcd needs the mount point: make it in the private /run tmpfs
    const script = [
      'mount --bind "$1" ' + DHCPCD_DBDIR,
      "mount -t tmpfs -o mode=0755 lab-run /run",
      "mkdir -p " + DHCPCD_RUNDIR,
      'mount --bind "$2" ' + DHCPCD_RUNDIR,
      'exec dhcpcd -B -4 -f "$3" "$4"',
    ].join(" && ");
    return inPrivateMounts(script, "dhcpcd-lab", [db, runDir, conf, ctx.node.ifname]);
  },
};
