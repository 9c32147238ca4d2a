import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseProbe } from "../../src/converge/probe.js";
import { probeScript } from "../../src/converge/probe-script.js";
import { AddressWatch } from "../../src/harness/address-watch.js";
import { bootNode, type BootedNode } from "../../src/harness/booted-node.js";
import { createTopology, type LabNode, type Topology } from "../../src/harness/topology.js";
import type { NsProcess } from "../../src/harness/netns.js";
import { firstAbsentAfter, pn0Spec, renderScript, rootfsFor } from "../helpers/booted-node.js";
import { startProbes, spawnUpServerIn, upUrl, type ProbeRecorder } from "../helpers/probe-recorder.js";
import { uniquePrefix } from "../helpers/topology.js";

/*
 * dhcpcd under the hardened unit, on a real systemd node: the unit gives dhcpcd a private
 * /run and /var/lib/dhcpcd instead of CAP_SYS_ADMIN, and dhcpcd's privilege separation runs
 * its main process as the dhcpcd user, which root without CAP_KILL cannot signal. This is
 * the default client on Ubuntu 24.04 (no dhclient, no busybox), so `auto` lands here.
 * Beside it, nodes whose address something else holds are taken over by the install script:
 * a per-interface dhcpcd unit (adopted, the unit retired without a release) and
 * systemd-networkd (adopted; told to leave the interface alone from its next start, since a
 * reload now would drop the address and stop its DHCP client).
 */

const rootfs = (await rootfsFor(import.meta.url)) ?? "";

const LEASE_SECONDS = 10;
const NODE = { name: "n1", ip: "198.18.0.10" };
/** held by `dhcpcd -B -4 pn0` under Restart=always, the incident's unit with dhcpcd */
const OLD = { name: "n2", ip: "198.18.0.11" };
const OLD_UNIT = "pn-dhcpcd.service";
/** held by systemd-networkd with DHCP=ipv4 */
const NETWORKD = { name: "n3", ip: "198.18.0.12" };
const NETWORKD_FILE = [
  "[Match]",
  "Name=pn0",
  "[Network]",
  "DHCP=ipv4",
  "LinkLocalAddressing=no",
  "IPv6AcceptRA=no",
  "",
].join("\n");
const OLD_UNIT_TEXT = [
  "[Unit]",
  "Description=PN DHCP (dhcpcd, renew forever)",
  "[Service]",
  "ExecStart=/usr/sbin/dhcpcd -B -4 pn0",
  "Restart=always",
  "[Install]",
  "WantedBy=multi-user.target",
  "",
].join("\n");
const EXPOSURE_BOUND = 2.5;

const numbers: Record<string, number | string> = {};

function spec(name: string): object {
  return pn0Spec(name, {
    address: { source: "dhcp", dhcpClient: "dhcpcd" },
    discovery: { attemptTimeout: "3s", maxBackoff: "2s" },
  });
}

describe.skipIf(rootfs === "")("dhcpcd under the hardened unit on a booted node", () => {
  let workDir: string;
  let topo: Topology;
  let node: BootedNode;
  let lab: LabNode;
  let watch: AddressWatch;
  let script: string;
  let old: BootedNode;
  let oldLab: LabNode;
  let oldWatch: AddressWatch;
  let oldScript: string;
  let nd: BootedNode;
  let ndLab: LabNode;
  let ndWatch: AddressWatch;
  let ndScript: string;
  let probes: ProbeRecorder;
  const upServers: NsProcess[] = [];

  const render = (name: string): Promise<string> => renderScript(spec(name), workDir, name);

  /** dhcpcd processes anywhere on the node (privsep retitles them "dhcpcd: ..."). */
  async function dhcpcdProcesses(on: BootedNode = node): Promise<string[]> {
    const found = await on.exec("ps", ["-eo", "pid=,uid=,args="]);
    return found.stdout
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => /^\d+\s+\d+\s+dhcpcd/.test(line));
  }

  async function status(): Promise<{ state: string; origin?: string; lastError?: string | null }> {
    const shown = await node.exec("holdfast", ["status", "--json"]);
    return (JSON.parse(shown.stdout) as { attachments: { state: string; origin?: string }[] })
      .attachments[0]!;
  }

  async function journal(): Promise<string> {
    return (await node.exec("journalctl", ["-u", "holdfast.service", "--no-pager", "-o", "cat"])).stdout;
  }

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), "hf-booted-clients-"));
    topo = await createTopology({
      prefix: uniquePrefix("rd"),
      workDir,
      leaseSeconds: LEASE_SECONDS,
      nodes: [NODE, OLD, NETWORKD],
    });
    [lab, oldLab, ndLab] = [topo.nodes[0]!, topo.nodes[1]!, topo.nodes[2]!];
    [node, old, nd] = await Promise.all([
      bootNode({ rootfs, ns: lab.ns, name: NODE.name, workDir }),
      bootNode({ rootfs, ns: oldLab.ns, name: OLD.name, workDir }),
      bootNode({ rootfs, ns: ndLab.ns, name: NETWORKD.name, workDir }),
    ]);
    watch = new AddressWatch(lab);
    oldWatch = new AddressWatch(oldLab);
    ndWatch = new AddressWatch(ndLab);
    await Promise.all([watch.start(), oldWatch.start(), ndWatch.start()]);
    upServers.push(spawnUpServerIn(oldLab.ns, workDir), spawnUpServerIn(ndLab.ns, workDir));
    probes = startProbes(
      topo.runner,
      [
        { name: OLD.name, url: upUrl(OLD.ip) },
        { name: NETWORKD.name, url: upUrl(NETWORKD.ip) },
      ],
      workDir,
    );
    [script, oldScript, ndScript] = await Promise.all([
      render(NODE.name),
      render(OLD.name),
      render(NETWORKD.name),
    ]);
  }, 180_000);

  afterAll(async () => {
    console.info(`\nbooted dhcpcd test numbers:\n${JSON.stringify(numbers, null, 2)}\n`);
    probes?.stop();
    for (const server of upServers) server.kill("SIGTERM");
    watch?.stop();
    oldWatch?.stop();
    ndWatch?.stop();
    await nd?.destroy();
    await old?.destroy();
    await node?.destroy();
    await topo?.destroy();
    if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
  }, 60_000);

  it("installs: dhcpcd discovers, the agent holds, no dhcpcd process is left", async () => {
    const start = Date.now();
    const installed = await node.exec("bash", ["-c", "HOLDFAST_WAIT_SECONDS=60 bash -s"], {
      input: script,
      timeoutMs: 120_000,
    });
    expect(installed.stdout).toMatch(/^holdfast: n1: held pn0 198\.18\.0\.10\/22 /);
    expect(installed.code).toBe(0);
    numbers["install: script run ms"] = Date.now() - start;
    expect(await lab.addresses()).toEqual([lab.cidr]);
    const logged = await journal();
    expect(logged, "dhcpcd discovered the address").toContain("pn0: discovered 198.18.0.10/22 via dhcpcd");
    // the launcher gave node the agent's options (MemoryDenyWriteExecute kills a JIT at
    // start) and V8 had nothing to warn about
    expect(logged).not.toMatch(/Warning|SIGTRAP/);
    // the agent's status file is on the host's /run, not only in the unit's private one
    expect(await status()).toMatchObject({ state: "held", origin: "dhcp" });
    // dhcpcd's own pid file went to the unit's private /run
    expect((await node.exec("test", ["-e", "/run/.pid"])).code).not.toBe(0);
    expect(await dhcpcdProcesses(), "no dhcpcd process is left").toEqual([]);
  });

  it("GIVEN the unit as installed THEN systemd-analyze security scores it within the bound", async () => {
    const analyzed = await node.exec("systemd-analyze", ["security", "--no-pager", "holdfast.service"]);
    const score = Number(/Overall exposure level for holdfast\.service: ([\d.]+)/.exec(analyzed.stdout)?.[1]);
    numbers["exposure (systemd-analyze security, online)"] = score;
    expect(score).toBeGreaterThan(0);
    expect(score).toBeLessThanOrEqual(EXPOSURE_BOUND);
  });

  it("reaps each timed-out exchange while Kea is silent, then holds once it answers", async () => {
    const kea = topo.kea!;
    kea.silence();
    try {
      // a node without its cache, restarted into a silent network: discovery must retry
      await node.exec("systemctl", ["stop", "holdfast.service"]);
      await node.exec("sh", ["-c", "rm -f /var/lib/holdfast/*.json && ip addr flush dev pn0"]);
      expect(await lab.addresses()).toEqual([]);
      await node.exec("systemctl", ["start", "holdfast.service"]);
      // three exchanges' worth of silence (3 s discovery timeout plus backoff)
      let most = 0;
      const until = Date.now() + 12_000;
      while (Date.now() < until) {
        most = Math.max(most, (await dhcpcdProcesses()).length);
        await sleep(250);
      }
      expect(await status()).toMatchObject({ state: "discovering" });
      numbers["silent: dhcpcd processes at most at once"] = most;
      numbers["silent: status lastError"] = (await status()).lastError ?? "";
      // one exchange runs at a time, and each one's processes go with it (privsep: 2-3)
      expect(most, "one exchange at a time, each reaped: dhcpcd processes at once").toBeLessThanOrEqual(3);
    } finally {
      kea.resume();
    }
    const resumed = Date.now();
    expect(await watch.waitPresent(20_000), "held once Kea answers again").toBe(true);
    numbers["silent: Kea back to address held ms"] = Date.now() - resumed;
    expect(await status()).toMatchObject({ state: "held", origin: "dhcp" });
    await sleep(500);
    expect(await dhcpcdProcesses()).toEqual([]);
  }, 60_000);

  it("adopts from a per-interface dhcpcd unit with no probe lost, and keeps it over a silent reboot", async () => {
    const install = await old.exec("sh", ["-c", `cat > /etc/systemd/system/${OLD_UNIT}`], {
      input: OLD_UNIT_TEXT,
    });
    expect(install.code).toBe(0);
    // dhcpcd sets this sysctl on start and exits when it cannot; nspawn mounts /proc/sys
    // read-only, so it is set from the node's namespace, as a real host would let dhcpcd do
    const sysctl = await oldLab.ns.exec("sysctl", ["-qw", "net.ipv4.conf.pn0.promote_secondaries=1"]);
    expect(sysctl.code).toBe(0);
    expect((await old.exec("systemctl", ["enable", "--now", "--quiet", OLD_UNIT])).code).toBe(0);
    expect(await oldWatch.waitPresent(30_000)).toBe(true);
    const reachable = await probes.firstOk(OLD.name, Date.now() - 30_000, 10_000);
    expect(reachable).toBeDefined();
    // the old client holds a lease that expires: what the incident's unit did, with dhcpcd
    const before = await old.exec("ip", ["-4", "-o", "addr", "show", "dev", "pn0"]);
    expect(before.stdout).toMatch(/dynamic|valid_lft \d+sec/);
    expect((await dhcpcdProcesses(old)).some((line) => / dhcpcd: pn0 /.test(line))).toBe(true);
    // converge's probe sees who holds it (the same finder as the script's), through the retitling
    const probed = await old.exec("bash", ["-s"], { input: probeScript(["pn0"]) });
    const holder = parseProbe(probed.stdout, ["pn0"]).interfaces[0]!;
    expect(holder).toMatchObject({ holder: "dhcpcd", clientUnit: OLD_UNIT });

    const start = Date.now();
    const taken = await old.exec("bash", ["-c", "HOLDFAST_WAIT_SECONDS=60 bash -s"], {
      input: oldScript,
      timeoutMs: 120_000,
    });
    const end = Date.now();
    expect(taken.stdout).toMatch(/^holdfast: n2: held pn0 198\.18\.0\.11\/22 /);
    expect(taken.stderr, "the old unit is retired without a release").toContain(
      `${OLD_UNIT}: disabled and killed (SIGKILL, no lease release)`,
    );
    expect(taken.stderr).toMatch(/pn0: dhcpcd \d+ stopped/);
    expect(taken.code).toBe(0);
    await sleep(1000);
    numbers["adopt: script run ms"] = end - start;
    const during = probes.count(OLD.name, start, Date.now());
    numbers["adopt: probe failures / total"] = `${during.failures}/${during.total}`;
    expect(during.total).toBeGreaterThan(0);
    expect(during.failures, "probes lost during the adoption").toBe(0);
    expect(firstAbsentAfter(oldWatch, start), "the address was never absent").toBeUndefined();

    expect((await old.exec("systemctl", ["is-enabled", OLD_UNIT])).stdout.trim()).toBe("disabled");
    expect(await dhcpcdProcesses(old)).toEqual([]);
    const after = await old.exec("ip", ["-4", "-o", "addr", "show", "dev", "pn0"]);
    expect(after.stdout).toContain("valid_lft forever preferred_lft forever");
    const held = JSON.parse((await old.exec("holdfast", ["status", "--json"])).stdout) as {
      attachments: { state: string; origin: string }[];
    };
    expect(held.attachments[0]).toMatchObject({ state: "held", origin: "cache" });

    // a reboot with Kea silent: the NIC comes up bare, the cache brings the address back
    const kea = topo.kea!;
    kea.silence();
    try {
      await old.poweroff();
      await oldLab.recreateLink();
      expect(await oldLab.addresses()).toEqual([]);
      const bootStart = Date.now();
      await old.boot();
      expect(await oldWatch.waitPresent(30_000), "a reboot with Kea silent keeps the address").toBe(true);
      numbers["adopt: reboot, container start to address ms"] = Date.now() - bootStart;
      expect(await probes.firstOk(OLD.name, bootStart, 30_000)).toBeDefined();
      // the retired unit stays retired
      expect(await dhcpcdProcesses(old)).toEqual([]);
    } finally {
      kea.resume();
    }
  }, 180_000);

  it("adopts from systemd-networkd with no probe lost; after a silent reboot the cache holds it", async () => {
    const written = await nd.exec(
      "sh",
      ["-c", "mkdir -p /etc/systemd/network && cat > /etc/systemd/network/50-pn0.network"],
      {
        input: NETWORKD_FILE,
      },
    );
    expect(written.code).toBe(0);
    expect((await nd.exec("systemctl", ["enable", "--now", "--quiet", "systemd-networkd"])).code).toBe(0);
    expect(await ndWatch.waitPresent(30_000)).toBe(true);
    expect(await probes.firstOk(NETWORKD.name, Date.now() - 30_000, 10_000)).toBeDefined();
    const probed = await nd.exec("bash", ["-s"], { input: probeScript(["pn0"]) });
    expect(parseProbe(probed.stdout, ["pn0"]).interfaces[0]).toMatchObject({ holder: "networkd" });

    const start = Date.now();
    const taken = await nd.exec("bash", ["-c", "HOLDFAST_WAIT_SECONDS=60 bash -s"], {
      input: ndScript,
      timeoutMs: 120_000,
    });
    expect(taken.stdout).toMatch(/^holdfast: n3: held pn0 198\.18\.0\.12\/22 /);
    expect(taken.stderr).toContain("pn0: adopted 198.18.0.12/22");
    // a reload now would make networkd drop the address and stop its DHCP client
    expect(taken.stderr).toContain("systemd-networkd manages it (configured); not reloaded");
    expect(taken.code).toBe(0);
    // networkd renews the lease meanwhile (every half lease); the agent re-asserts the
    // infinite lifetime each time, and the address is never absent
    await sleep(LEASE_SECONDS * 1000);
    const during = probes.count(NETWORKD.name, start, Date.now());
    numbers["networkd: probe failures / total (install + one lease)"] = `${during.failures}/${during.total}`;
    expect(during.failures, "probes lost during the adoption").toBe(0);
    expect(firstAbsentAfter(ndWatch, start), "the address was never absent").toBeUndefined();
    const held = JSON.parse((await nd.exec("holdfast", ["status", "--json"])).stdout) as {
      attachments: { state: string; origin: string; reasserts: number }[];
    };
    expect(held.attachments[0]).toMatchObject({ state: "held", origin: "cache" });
    numbers["networkd: re-asserts over one lease while networkd still renews"] =
      held.attachments[0]!.reasserts;

    const kea = topo.kea!;
    kea.silence();
    try {
      await nd.poweroff();
      await ndLab.recreateLink();
      const bootStart = Date.now();
      await nd.boot();
      expect(await ndWatch.waitPresent(30_000), "the cache holds it after a reboot with Kea silent").toBe(
        true,
      );
      numbers["networkd: reboot, container start to address ms"] = Date.now() - bootStart;
      expect(await probes.firstOk(NETWORKD.name, bootStart, 30_000)).toBeDefined();
      // from its next start networkd leaves the interface alone, so nothing removes it again
      const links = await nd.exec("networkctl", ["list", "--no-legend", "--no-pager"]);
      expect(links.stdout, "networkd leaves pn0 alone from its next start").toMatch(
        /\bpn0\s+\S+\s+\S+\s+unmanaged/,
      );
      const settled = Date.now();
      await sleep(LEASE_SECONDS * 1000);
      expect(firstAbsentAfter(ndWatch, settled)).toBeUndefined();
      expect(probes.count(NETWORKD.name, settled, Date.now()).failures).toBe(0);
    } finally {
      kea.resume();
    }
  }, 180_000);
});
