import { join } from "node:path";
import { dhclientCommand, prepareDhclientSandbox } from "./dhclient-sandbox.js";
import type { Impl } from "./types.js";

/**
 * The unit before the fix: `ExecStart=dhclient -d pn0`, `Restart=always`. dhclient stays
 * alive while the server is silent, so the supervisor never fires, and the address lapses.
 * Lease and pid files live in the run's dirs; the lease file survives a reboot like
 * /var/lib/dhcp does. It runs in the dhclient sandbox: no host config or hook is used.
 */
export const dhclient: Impl = {
  name: "dhclient",
  summary: "dhclient -d pn0 under Restart=always (the unit before the fix)",
  requires: [
    { command: "dhclient", pkg: "isc-dhcp-client" },
    { command: "unshare", pkg: "util-linux" },
  ],
  async prepare(ctx) {
    const sandbox = await prepareDhclientSandbox(ctx.dir, ctx.stateDir);
    return dhclientCommand(sandbox, [
      "-d",
      "-4",
      "-lf",
      join(ctx.stateDir, "dhclient.leases"),
      "-pf",
      join(ctx.runDir, "dhclient.pid"),
      ctx.node.ifname,
    ]);
  },
};
