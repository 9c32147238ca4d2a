import { existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  dhclientCommand,
  labDhclientConf,
  prepareDhclientSandbox,
  sandboxed,
} from "../../src/lab/impls/dhclient-sandbox.js";
import { LAB_KEA_OPTIONS } from "../../src/harness/kea-options.js";
import { skipUnlessRoot } from "../helpers/root.js";
import { uniquePrefix, withTopology } from "../helpers/topology.js";
import { scratchDir } from "../helpers/scratch.js";

const skip = skipUnlessRoot(import.meta.url, "dhclient in namespaces");

const dir = scratchDir("hfsbx-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What a reader can see of the host's dhclient files, to prove a run changed none of them. */
function hostDhcpState(): string {
  const list = (d: string): string =>
    existsSync(d)
      ? readdirSync(d)
          .map((name) => `${name}:${statSync(join(d, name)).mtimeMs}`)
          .join(",")
      : "-";
  return ["/etc/dhcp", "/etc/dhcp/dhclient-exit-hooks.d", "/etc/dhcp/dhclient-enter-hooks.d", "/var/lib/dhcp"]
    .map(list)
    .join("|");
}

describe.skipIf(skip)("dhclient sandbox in a namespace", () => {
  it("shows a sandboxed shell only the lab's dhclient files, the host's untouched", async () => {
    const sandbox = await prepareDhclientSandbox(join(dir, "look"), join(dir, "look-state"));
    const before = hostDhcpState();
    await withTopology({ prefix: uniquePrefix("sbx"), nodes: [], startKea: false }, async (topo) => {
      const look = sandboxed(sandbox, "sh", [
        "-c",
        "ls -A /etc/dhcp; echo --; ls -A /etc/dhcp/dhclient-exit-hooks.d; echo --; " +
          "ls -A /etc/dhcp/dhclient-enter-hooks.d; echo --; ls -A /var/lib/dhcp; echo --; " +
          "head -1 /etc/dhcp/dhclient.conf",
      ]);
      const result = await topo.runner.exec(look.file, look.args, { timeoutMs: 10_000 });
      expect(result.stderr).toBe("");
      expect(result.stdout.split("--\n"), "only the lab's hooks, config and lease dir").toEqual([
        "dhclient-enter-hooks.d\ndhclient-exit-hooks.d\ndhclient.conf\n",
        "rfc3442-classless-routes\n",
        "",
        "",
        "# holdfast lab: dhclient's configuration (the host's /etc/dhcp is never read)\n",
      ]);
    });
    expect(hostDhcpState(), "the host's dhclient files stay as they were").toBe(before);
  });

  it("runs dhclient in the sandbox: the lab hook sets the route, the host's files stay", async () => {
    const sandbox = await prepareDhclientSandbox(join(dir, "run"), join(dir, "run-state"));
    const before = hostDhcpState();
    await withTopology(
      {
        prefix: uniquePrefix("sbd"),
        leaseSeconds: 30,
        nodes: [{ name: "n1", ip: "198.18.0.40" }],
        keaOptionData: LAB_KEA_OPTIONS,
      },
      async (topo) => {
        const node = topo.nodes[0]!;
        const pidFile = join(dir, "run", "dhclient.pid");
        // -1: one attempt, then dhclient daemonises with the lease, as the seed loop runs it
        const bind = dhclientCommand(sandbox, [
          "-1",
          "-4",
          "-lf",
          join(dir, "run-state", "leases"),
          "-pf",
          pidFile,
          "pn0",
        ]);
        const bound = await node.ns.exec(bind.file, bind.args, { timeoutMs: 30_000 });
        expect(bound.code, bound.stderr).toBe(0);

        const routes = await node.ns.exec("ip", ["-4", "route", "show", "169.254.169.254"]);
        expect(routes.stdout.trim(), "the lab's hook set the metadata route").toBe(
          "169.254.169.254 via 198.18.0.1 dev pn0",
        );
        const addr = await node.ns.exec("ip", ["-j", "-4", "addr", "show", "dev", "pn0"]);
        const info = JSON.parse(addr.stdout)[0].addr_info[0] as { local: string; valid_life_time: number };
        expect(info.local).toBe("198.18.0.40");
        expect(info.valid_life_time, "the address expires with the lease").toBeLessThanOrEqual(30);

        // -x without -lf, as the seed loop stops it: the default lease db is the sandbox's
        const stop = dhclientCommand(sandbox, ["-x", "-pf", pidFile, "pn0"]);
        expect((await node.ns.exec(stop.file, stop.args, { timeoutMs: 15_000 })).code).toBe(0);
        expect(readdirSync(sandbox.varDir)).toContain("dhclient.leases");
      },
    );
    expect(hostDhcpState(), "nothing of the host's was written").toBe(before);
    expect(readFileSync(join(sandbox.etcDir, "dhclient.conf"), "utf8")).toBe(labDhclientConf());
  }, 60_000);
});
