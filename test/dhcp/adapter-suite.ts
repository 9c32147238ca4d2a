import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { AdapterOptions } from "../../src/dhcp/exchange.js";
import { DiscoveryTimeout, type DhcpAdapter } from "../../src/dhcp/lease.js";
import { skipUnlessRoot } from "../helpers/root.js";
import { uniquePrefix, useTopology } from "../helpers/topology.js";

/** Option 121 as Kea 2.2 takes it (binary): 10.0.0.0/8 via 198.18.0.1, 192.168.0.0/16 via 198.18.0.2 */
const CLASSLESS_HEX = "080ac612000110c0a8c6120002";

const EXPECTED_ROUTES = [
  { dst: "10.0.0.0/8", via: "198.18.0.1", metric: 1024 },
  { dst: "192.168.0.0/16", via: "198.18.0.2", metric: 1024 },
];

/**
 * The same real-world checks for every adapter: real Kea (10 s leases, reservations by MAC),
 * the real client binary, inside a node namespace. `file` is the calling test file's
 * `import.meta.url` (a root-only `.ns.test.ts`).
 */
export function describeAdapter(
  file: string,
  tag: string,
  create: (options?: AdapterOptions) => DhcpAdapter,
): void {
  const name = create().name;
  const skip = skipUnlessRoot(file, `${name} against Kea in namespaces`);

  describe.skipIf(skip)(`${name} adapter against Kea`, () => {
    const topo = useTopology({
      prefix: uniquePrefix(tag),
      leaseSeconds: 10,
      nodes: [{ name: "n1", ip: "198.18.0.41" }],
      keaOptionData: [
        { name: "routers", data: "198.18.0.1" },
        { code: 121, data: CLASSLESS_HEX, "csv-format": false },
      ],
    });
    const adapterIn = (): DhcpAdapter => {
      const ns = topo.current.nodes[0]!.ns;
      return create({ runner: ns.exec.bind(ns) });
    };
    const scratch = (): Promise<string> => mkdtemp(join(topo.current.workDir, `${name}-`));

    it("GIVEN the client is installed THEN available() says so", async () => {
      expect(await create().available()).toBe(true);
    });

    it("reports the reserved lease and configures nothing, leaving no process", async () => {
      const node = topo.current.nodes[0]!;
      const workDir = await scratch();
      const dhcpcdDb = existsSync("/var/lib/dhcpcd") ? statSync("/var/lib/dhcpcd").mtimeMs : undefined;
      const runPidExisted = existsSync("/run/.pid");

      const lease = await adapterIn().discover("pn0", { timeoutMs: 8000, workDir });

      expect(lease).toEqual({
        cidr: "198.18.0.41/22",
        server: "169.254.169.254",
        leaseSeconds: 10,
        // RFC 3442: option 121 present, so the router option is ignored
        routes: EXPECTED_ROUTES,
        // T1 (option 58), where the client reports it: Kea sends half the lease
        ...(lease.renewalSeconds === undefined ? {} : { renewalSeconds: 5 }),
      });
      // the client configured nothing: no address, no route, resolver untouched
      expect(await node.addresses(), "no address configured").toEqual([]);
      const routes = await node.ns.exec("ip", ["-4", "route", "show"], { timeoutMs: 5000 });
      expect(routes.stdout.trim(), "no route configured").toBe("");
      expect(readFileSync(`/etc/netns/${node.ns.name}/resolv.conf`, "utf8"), "resolver untouched").toMatch(
        /^# holdfast lab namespace/,
      );
      expect(await node.ns.pids(), "no client process left in the namespace").toEqual([]);
      // its scratch files were inside workDir and are cleaned up, none in system dirs
      expect(readdirSync(workDir), "scratch files cleaned up").toEqual([]);
      if (dhcpcdDb !== undefined)
        expect(statSync("/var/lib/dhcpcd").mtimeMs, "/var/lib/dhcpcd untouched").toBe(dhcpcdDb);
      if (!runPidExisted) expect(existsSync("/run/.pid"), "no pid file in /run").toBe(false);
    });

    it("times out within the deadline against a silent Kea, leaving no process", async () => {
      const node = topo.current.nodes[0]!;
      const kea = topo.current.kea!;
      kea.silence();
      try {
        const started = performance.now();
        const attempt = adapterIn().discover("pn0", { timeoutMs: 2500, workDir: await scratch() });
        await expect(attempt).rejects.toBeInstanceOf(DiscoveryTimeout);
        await expect(attempt).rejects.toThrow("no DHCP answer within 2500 ms: pn0");
        // the deadline plus the kill grace, nothing more
        expect(performance.now() - started, "DiscoveryTimeout within the deadline").toBeLessThan(2500 + 1000);
        expect(await node.ns.pids(), "no client process left").toEqual([]);
        expect(await node.addresses(), "no address").toEqual([]);
      } finally {
        kea.resume();
      }
    });

    it("GIVEN no such interface WHEN discovering THEN a plain error names the client and the cause", async () => {
      const attempt = adapterIn().discover("nosuch0", { timeoutMs: 3000, workDir: await scratch() });
      await expect(attempt).rejects.not.toBeInstanceOf(DiscoveryTimeout);
      await expect(attempt).rejects.toThrow(new RegExp(`^${name} failed on nosuch0 \\(exit`));
      expect(await topo.current.nodes[0]!.ns.pids()).toEqual([]);
    });

    it("starts the client by its absolute path when PATH lacks the sbin dirs", async () => {
      const saved = process.env.PATH;
      // `ip netns exec` (in /usr/bin) then execs the client with this PATH too
      process.env.PATH = "/usr/bin:/bin";
      const started: string[] = [];
      const ns = topo.current.nodes[0]!.ns;
      const adapter = create({
        runner: (file, args, options) => {
          started.push(file);
          return ns.exec(file, args, options);
        },
      });
      try {
        expect(await adapter.available()).toBe(true);
        const lease = await adapter.discover("pn0", { timeoutMs: 8000, workDir: await scratch() });
        expect(lease.cidr).toBe("198.18.0.41/22");
        expect(started).toHaveLength(1);
        expect(started[0], "started by its absolute path (PATH=/usr/bin:/bin)").toMatch(/^\//);
      } finally {
        process.env.PATH = saved;
      }
    });

    it("GIVEN a lease was discovered WHEN discovering again THEN the same reservation comes back", async () => {
      const lease = await adapterIn().discover("pn0", { timeoutMs: 8000, workDir: await scratch() });
      expect(lease.cidr).toBe("198.18.0.41/22");
    });

    describe("confirm (ask for the held address)", () => {
      if (create().confirm === undefined) {
        it("GIVEN a client that cannot end an exchange with the server's ACK THEN it offers no confirm", () => {
          // dhcpcd --test stops at the OFFER: the server's lease would never be renewed (README)
          expect(name).toBe("dhcpcd");
        });
        return;
      }
      const confirm = (cidr: string, timeoutMs = 8000) =>
        scratch().then((workDir) =>
          adapterIn().confirm!("pn0", { cidr, server: "169.254.169.254", timeoutMs, workDir }),
        );

      it("confirms the reserved address: ACKed, lease renewed, nothing configured", async () => {
        const node = topo.current.nodes[0]!;
        const kea = topo.current.kea!;
        await adapterIn().discover("pn0", { timeoutMs: 8000, workDir: await scratch() });
        await confirm("198.18.0.41/22");
        const before = (await kea.leases("198.18.0.41")).at(-1)?.expire ?? 0;
        await new Promise((r) => setTimeout(r, 1100));

        const answer = await confirm("198.18.0.41/22");

        expect(answer).toMatchObject({
          kind: "ack",
          lease: { cidr: "198.18.0.41/22", server: "169.254.169.254", leaseSeconds: 10 },
        });
        const after = (await kea.leases("198.18.0.41")).at(-1);
        expect(after?.expire, `Kea's lease for .41 (expire before: ${before})`).toBeGreaterThan(before);
        expect(after?.hwaddr).toBe(node.mac);
        expect(await node.addresses()).toEqual([]);
        expect(await node.ns.pids()).toEqual([]);
      });

      it("reports the new address the server ACKs after IPAM moved it", async () => {
        const answer = await confirm("198.18.0.77/22");
        expect(answer).toMatchObject({ kind: "ack", lease: { cidr: "198.18.0.41/22" } });
        expect(await topo.current.nodes[0]!.ns.pids()).toEqual([]);
      });

      it("GIVEN Kea silenced WHEN confirming THEN DiscoveryTimeout within the deadline and no process is left", async () => {
        const kea = topo.current.kea!;
        kea.silence();
        try {
          const started = performance.now();
          await expect(confirm("198.18.0.41/22", 2500)).rejects.toBeInstanceOf(DiscoveryTimeout);
          expect(performance.now() - started).toBeLessThan(2500 + 1000);
          expect(await topo.current.nodes[0]!.ns.pids()).toEqual([]);
        } finally {
          kea.resume();
        }
      });
    });
  });
}
