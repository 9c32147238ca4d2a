import { join } from "node:path";
import type { Impl } from "./types.js";

/** Debian's own script: it adds the address with `valid_lft <lease time>`, so the kernel drops it at expiry. */
export const DHCLIENT_SCRIPT = "/sbin/dhclient-script";

/**
 * The unit before the fix: `ExecStart=dhclient -d pn0`, `Restart=always`. dhclient stays
 * alive while the server is silent, so the supervisor never fires, and the address lapses.
 * Lease and pid files live in the run's dirs; the lease file survives a reboot like
 * /var/lib/dhcp does.
 */
export const dhclient: Impl = {
  name: "dhclient",
  summary: "dhclient -d pn0 under Restart=always (the unit before the fix)",
  requires: [{ command: "dhclient", pkg: "isc-dhcp-client" }],
  prepare(ctx) {
    return Promise.resolve({
      file: "dhclient",
      args: [
        "-d",
        "-4",
        "-sf",
        DHCLIENT_SCRIPT,
        "-lf",
        join(ctx.stateDir, "dhclient.leases"),
        "-pf",
        join(ctx.runDir, "dhclient.pid"),
        ctx.node.ifname,
      ],
    });
  },
};
