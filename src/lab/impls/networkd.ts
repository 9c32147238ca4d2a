import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Impl } from "./types.js";

export const NETWORKD = "/lib/systemd/systemd-networkd";

export function networkdUnit(ifname: string): string {
  return [
    "# holdfast lab: systemd-networkd with KeepConfiguration=dhcp (systemd 252 naming)",
    "[Match]",
    `Name=${ifname}`,
    "",
    "[Network]",
    "DHCP=ipv4",
    "KeepConfiguration=dhcp",
    "LinkLocalAddressing=no",
    "IPv6AcceptRA=no",
    "",
    "[DHCPv4]",
    // nothing that would reach outside the node namespace
    "UseDNS=no",
    "UseNTP=no",
    "UseHostname=no",
    "UseDomains=no",
    "",
  ].join("\n");
}

/**
 * systemd-networkd run by hand inside the node namespace: a private mount namespace with a
 * fresh /run (its state, no host D-Bus, no udev), a read-only /sys (so it does not wait for
 * udev to initialise links), the run's own .network directory over /etc/systemd/network,
 * and /var/lib/systemd/network (DHCP state) from the run's state dir.
 */
export const networkd: Impl = {
  name: "networkd",
  summary: "systemd-networkd with KeepConfiguration=dhcp",
  requires: [
    { command: NETWORKD, pkg: "systemd" },
    { command: "unshare", pkg: "util-linux" },
  ],
  async prepare(ctx) {
    const conf = join(ctx.dir, "network");
    const state = join(ctx.stateDir, "networkd");
    await mkdir(conf, { recursive: true });
    await mkdir(state, { recursive: true });
    await writeFile(join(conf, `10-${ctx.node.ifname}.network`), networkdUnit(ctx.node.ifname));
    const script = [
      "mount -t tmpfs -o mode=0755 lab-run /run",
      // networkd makes /run/systemd/netif itself, owned by systemd-network
      "mkdir -p /run/systemd",
      // no udev in the lab: a read-only /sys is how networkd (udev_available()) learns not to wait for it
      "mount -o remount,bind,ro /sys",
      'mount --bind "$1" /etc/systemd/network',
      "mkdir -p /var/lib/systemd/network",
      'mount --bind "$2" /var/lib/systemd/network',
      `exec ${NETWORKD}`,
    ].join(" && ");
    return {
      file: "unshare",
      args: ["--mount", "--uts", "--propagation", "private", "sh", "-c", script, "networkd-lab", conf, state],
      env: { ...process.env, SYSTEMD_LOG_LEVEL: "info", SYSTEMD_LOG_TARGET: "console" },
    };
  },
};
