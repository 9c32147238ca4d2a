import { readFileSync } from "node:fs";
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConvergeReport } from "../../src/converge/report.js";
import { readProbeLog } from "../../src/harness/probe.js";
import { selfCommand } from "../../src/harness/bundle-path.js";
import { AddressWatch } from "../../src/harness/address-watch.js";
import { DHCP_SERVER_IP, METADATA_IP, type LabNode } from "../../src/harness/topology.js";
import { longestAbsence, rootfsFor } from "../helpers/booted-node.js";
import { uniquePrefix } from "../helpers/topology.js";
import {
  BUNDLE,
  checkBundle,
  createConvergeLab,
  labSpec,
  nodeIp,
  writeInventory,
  type ConvergeLab,
  DHCLIENT_UNIT,
} from "./converge-nodes.js";

const PACKAGE_VERSION = (
  JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }
).version;

const rootfs = (await rootfsFor(import.meta.url, checkBundle)) ?? "";

// n1..n5 converge together; n6 is the incident's node (dhclient -d unit) for adoption
const NODES = 6;
const FLEET = [0, 1, 2, 3, 4];
const INCIDENT = 5;

// the cache port stand-in, answering on every address of the node
const UP_SERVER = `require("http").createServer((q, s) => { s.setHeader("connection", "close"); s.end("up\\n"); }).listen(8080)`;

const outcomes = (report: ConvergeReport): Record<string, string> =>
  Object.fromEntries(report.hosts.map((h) => [h.name, h.outcome]));

describe.skipIf(rootfs === "")("holdfast converge on booted nodes over real ssh", () => {
  let lab: ConvergeLab;
  let workDir: string;
  let bundle: string;

  /** `holdfast converge` itself, from the runner namespace, as an operator would run it. */
  const cli = (args: readonly string[]) =>
    lab.topo.runner.exec(
      process.execPath,
      [bundle, "converge", "--ssh-config", lab.sshConfig, "--connect-timeout", "5", ...args],
      { timeoutMs: 180_000 },
    );

  /** converge --json through the CLI: the bundle renders with its own version, as in production */
  const convergeJson = async (inventory: string, ...extra: string[]) => {
    const result = await cli(["--inventory", inventory, "--json", ...extra]);
    expect(result.stderr).toBe("");
    return { code: result.code, report: JSON.parse(result.stdout) as ConvergeReport };
  };

  /**
   * Runs `during` while the runner probes http://<ip>:8080/up every 100 ms (fresh TCP
   * connection each, as a runner's request would); returns what failed meanwhile.
   */
  const whileProbing = async (labNode: LabNode, label: string, during: () => Promise<void>) => {
    const ip = labNode.ip;
    const probeLog = join(workDir, `probes-${label}.jsonl`);
    // 1 s per probe, not the lab's 300 ms: a busy CI box must not fail a probe for slowness;
    // a missing address still fails one (the dropped SYN is only retried after 1 s)
    const probe = selfCommand("lab-probe", [
      "--out", probeLog, "--timeout", "1000", "--target", `node=http://${ip}:8080/up`,
    ]); // prettier-ignore
    const prober = lab.topo.runner.spawn(probe.file, probe.args);
    // the kernel's own record of pn0's address: a failed probe then says whether it was absent
    const watch = new AddressWatch(labNode);
    await watch.start();
    try {
      for (let i = 0; i < 50 && !(readProbeLog(probeLog).get("node") ?? []).some((s) => s.ok); i++)
        await sleep(100);
      const startedAt = Date.now();
      await during();
      prober.kill("SIGTERM");
      await prober.exited;
      const samples = (readProbeLog(probeLog).get("node") ?? []).filter((s) => s.t >= startedAt);
      const failures = samples.filter((s) => !s.ok);
      const absentMs = Math.round(longestAbsence(watch, startedAt, Date.now()));
      console.log(
        `${label}: ${samples.length} probes, ${failures.length} failed; pn0 absent at most ${absentMs} ms`,
      );
      const address = watch.samples.filter((a) => a.t >= startedAt).map((a) => [a.t - startedAt, a.present]);
      const when =
        `probes failed at ${JSON.stringify(failures.map((f) => f.t - startedAt))} ms after the start, ` +
        `pn0 address events ${JSON.stringify(address)}`;
      return { failures, total: samples.length, when, startedAt };
    } finally {
      watch.stop();
      prober.kill("SIGKILL");
    }
  };

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), "hf-converge-"));
    // a private copy: a rebuild of dist/ during the run must not turn "unchanged" into "upgrade"
    bundle = join(workDir, "holdfast.mjs");
    await copyFile(BUNDLE, bundle);
    lab = await createConvergeLab({ rootfs, prefix: uniquePrefix("cv"), workDir, count: NODES });
    // the fleet's nodes carry their PN address already, set by hand (the incident's patched node)
    for (const i of FLEET)
      await lab.nodes[i]!.exec("ip", ["addr", "add", lab.topo.nodes[i]!.cidr, "dev", "pn0"]);
  }, 180_000);

  afterAll(async () => {
    await lab?.destroy();
    await rm(workDir, { recursive: true, force: true });
  }, 60_000);

  it("GIVEN 5 fresh nodes WHEN --dry-run THEN every plan is install and nothing changes", async () => {
    const inventory = await writeInventory(workDir, FLEET);
    const { code, report } = await convergeJson(inventory, "--dry-run");
    expect(outcomes(report)).toEqual({
      n1: "planned",
      n2: "planned",
      n3: "planned",
      n4: "planned",
      n5: "planned",
    });
    expect(report.hosts.map((h) => h.plan?.kind)).toEqual(Array(5).fill("install"));
    expect(report.hosts[0]!.plan!.adopt).toEqual([
      { interface: "pn0", cidr: lab.topo.nodes[0]!.cidr, from: "static, no client" },
    ]);
    expect(code).toBe(0);
    expect((await lab.nodes[0]!.exec("test", ["-e", "/usr/local/lib/holdfast"])).code).toBe(1);
  }, 60_000);

  it("refuses an unknown host key unless --accept-new-host-keys, which remembers it", async () => {
    const knownHosts = join(workDir, "known_hosts.empty");
    await writeFile(knownHosts, "");
    const sshConfig = join(workDir, "ssh_config.unpinned");
    const pinned = await readFile(lab.sshConfig, "utf8");
    await writeFile(sshConfig, pinned.replace(/UserKnownHostsFile .*/, `UserKnownHostsFile ${knownHosts}`));
    const inventory = await writeInventory(workDir, [0], labSpec(), "one.yaml");
    const args = [
      bundle,
      "converge",
      "--ssh-config",
      sshConfig,
      "--inventory",
      inventory,
      "--dry-run",
      "--json",
    ];
    const strict = await lab.topo.runner.exec(process.execPath, args, { timeoutMs: 60_000 });
    expect(strict.code).toBe(1);
    expect((JSON.parse(strict.stdout) as ConvergeReport).hosts[0]).toMatchObject({
      outcome: "failed",
      failedAt: "probe",
      error: expect.stringMatching(/^unreachable: .*Host key verification failed\.$/),
    });
    const accepted = await lab.topo.runner.exec(process.execPath, [...args, "--accept-new-host-keys"], {
      timeoutMs: 60_000,
    });
    expect(accepted.code, "--accept-new-host-keys lets it in").toBe(0);
    expect(await readFile(knownHosts, "utf8"), "and remembers the key").toContain(
      `198.18.0.10 ${lab.nodes[0]!.identity.hostKey}`,
    );
  }, 60_000);

  it("GIVEN 5 fresh nodes WHEN converged THEN holdfast is installed and holds pn0 on all", async () => {
    const inventory = await writeInventory(workDir, FLEET);
    const { code, report } = await convergeJson(inventory);
    expect(report.hosts.map((h) => h.error)).toEqual(Array(5).fill(undefined));
    expect(outcomes(report)).toEqual({
      n1: "converged",
      n2: "converged",
      n3: "converged",
      n4: "converged",
      n5: "converged",
    });
    for (const [k, i] of FLEET.entries()) {
      expect(report.hosts[k]!.held).toEqual([{ interface: "pn0", cidr: lab.topo.nodes[i]!.cidr }]);
      expect(report.hosts[k]!.changes).toContain(
        `pn0: adopted ${lab.topo.nodes[i]!.cidr} (cached; it no longer expires)`,
      );
    }
    const cache = JSON.parse((await lab.nodes[0]!.exec("cat", ["/var/lib/holdfast/pn0.json"])).stdout) as {
      cidr: string;
    };
    expect(cache.cidr).toBe(lab.topo.nodes[0]!.cidr);
    expect(code).toBe(0);
    console.log(`converge: 5 fresh nodes installed in ${report.durationMs} ms`);
  }, 180_000);

  it("GIVEN converged nodes WHEN `holdfast converge --json` runs again THEN all are unchanged, exit 0", async () => {
    const inventory = await writeInventory(workDir, FLEET);
    const { code, report } = await convergeJson(inventory);
    expect(report.hosts.map((h) => h.plan?.reasons)).toEqual(
      Array(5).fill([`holdfast ${PACKAGE_VERSION} holds pn0`]),
    );
    expect(code).toBe(0);
    expect(outcomes(report)).toEqual({
      n1: "unchanged",
      n2: "unchanged",
      n3: "unchanged",
      n4: "unchanged",
      n5: "unchanged",
    });
    expect(report.summary).toEqual({ total: 5, converged: 0, unchanged: 5, planned: 0, failed: 0 });
    const each = report.hosts.map((h) => h.durationMs).sort((a, b) => a - b);
    console.log(`converge: 5 unchanged hosts in ${report.durationMs} ms; per host ${each.join(", ")} ms`);
  }, 120_000);

  it("GIVEN a new config and n3 powered off WHEN converged THEN n3 fails, the other four converge, exit 1", async () => {
    await lab.nodes[2]!.poweroff();
    const inventory = await writeInventory(workDir, FLEET, labSpec("20s"));
    const result = await cli(["--inventory", inventory]);
    expect(result.code).toBe(1);
    // not a terminal: one line per host as it finishes on stderr, the table on stdout
    expect(result.stderr).toMatch(
      /^n3 {2}failed \(\d+\.\ds\): probe: unreachable: ssh: connect to host 198\.18\.0\.12 port 22: .+$/m,
    );
    const table = result.stdout.split("\n");
    expect(table[0]).toMatch(/^HOST +ADDRESS +PLAN +RESULT +TIME +DETAIL$/);
    for (const [name, i] of [
      ["n1", 0],
      ["n2", 1],
      ["n4", 3],
      ["n5", 4],
    ] as const) {
      const row = table.find((line) => line.startsWith(`${name} `));
      expect(row).toMatch(
        new RegExp(`^${name} +${nodeIp(i).replace(/\./g, "\\.")} +reconfigure +converged +`),
      );
    }
    expect(table.find((line) => line.startsWith("n3 "))).toMatch(/^n3 +198\.18\.0\.12 +- +failed +/);
    expect(result.stdout).toMatch(/\n5 hosts: 4 converged, 1 failed in \d+\.\ds\n$/);
    const config = await lab.nodes[0]!.exec("cat", ["/etc/holdfast/holdfast.yaml"]);
    expect(config.stdout).toContain("reconcileInterval: 20s");
  }, 180_000);

  it("converges the incident's node with no probe lost, and keeps it over a silent reboot", async () => {
    const node = lab.nodes[INCIDENT]!;
    const labNode = lab.topo.nodes[INCIDENT]!;
    await node.exec("sh", ["-c", "cat > /etc/systemd/system/dhclient-pn0.service"], { input: DHCLIENT_UNIT });
    await node.exec("systemctl", ["daemon-reload"]);
    expect((await node.exec("systemctl", ["enable", "--now", "dhclient-pn0.service"])).code).toBe(0);
    for (let i = 0; i < 100 && !(await labNode.addresses()).includes(labNode.cidr); i++) await sleep(100);
    expect(await labNode.addresses()).toEqual([labNode.cidr]);
    // a healthy incident node: its unicast renewals reach the server (else its lease runs out
    // and its own script flushes pn0 whenever converge is slow, which holdfast cannot prevent)
    expect((await node.exec("ip", ["-4", "route", "show", METADATA_IP])).stdout, "route to Kea").toContain(
      `${METADATA_IP} via ${DHCP_SERVER_IP} dev pn0`,
    );
    expect((await node.exec("systemd-run", ["--unit=up-server", "node", "-e", UP_SERVER])).code).toBe(0);

    // GIVEN the runner probing the node's cache-port stand-in every 100 ms
    const inventory = await writeInventory(workDir, [INCIDENT], labSpec(), "incident.yaml");
    const marks: [string, number][] = [];
    const mark = (what: string) => marks.push([what, Date.now()]);
    const { failures, total, when, startedAt } = await whileProbing(labNode, "adoption", async () => {
      // WHEN converged
      mark("dry-run");
      const { report: dry } = await convergeJson(inventory, "--dry-run");
      mark("converge");
      expect(dry.hosts[0]!.plan!.reasons).toContainEqual(
        expect.stringMatching(
          new RegExp(
            `^pn0: ${labNode.ip}/22 held by dhclient pid \\d+ \\(dhclient-pn0\\.service\\); adopt it, then disable dhclient-pn0\\.service and kill its dhclient without a release$`,
          ),
        ),
      );
      const { code, report } = await convergeJson(inventory);
      expect(code).toBe(0);
      expect(report.hosts[0]!.error).toBeUndefined();
      expect(report.hosts[0]!.outcome).toBe("converged");
      mark("converged");
      // a lease renewal (every 5 s with Kea's 10 s leases) would have come by now
      await sleep(6000);
    });
    // no probe failed during the whole converge
    expect(total).toBeGreaterThan(50);
    if (failures.length > 0) {
      // what the node did meanwhile, in the same clock (the node's journal, epoch µs)
      const journal = await node.exec("journalctl", ["-o", "short-unix", "--no-pager", "--since", "-120s"]);
      const rel = (line: string) =>
        line.replace(/^(\d+)\.(\d{3})\d*/, (_, s: string, ms: string) => String(Number(s + ms) - startedAt));
      console.log(
        `adoption timeline (ms after the probes started): ${marks.map(([what, t]) => `${what} ${t - startedAt}`).join(", ")}\n` +
          journal.stdout
            .split("\n")
            .filter((l) => /dhclient|holdfast|systemd\[1\]|COMMAND=/.test(l))
            .map(rel)
            .join("\n"),
      );
    }
    expect(failures, `the runner's probes during the converge: ${when}`).toEqual([]);

    // the old unit is disabled, no dhclient runs, and the address never expires
    expect(
      (await node.exec("systemctl", ["is-enabled", "dhclient-pn0.service"])).stdout.trim(),
      "the old dhclient unit",
    ).toBe("disabled");
    expect((await node.exec("pgrep", ["-x", "dhclient"])).code, "no dhclient runs").toBe(1);
    const addr = JSON.parse((await node.exec("ip", ["-j", "-4", "addr", "show", "dev", "pn0"])).stdout) as {
      addr_info: { local: string; valid_life_time: number; dynamic?: boolean }[];
    }[];
    expect(addr[0]!.addr_info.map((a) => [a.local, a.valid_life_time, a.dynamic ?? false])).toEqual([
      [labNode.ip, 4294967295, false],
    ]);

    // Kea goes silent and the node reboots: the agent holds the address from its cache
    lab.topo.kea!.silence();
    try {
      await node.reboot();
      let status = "";
      for (let i = 0; i < 100; i++) {
        status = (await node.exec("holdfast", ["status", "--json"])).stdout;
        if (status.includes('"state": "held"')) break;
        await sleep(200);
      }
      const doc = JSON.parse(status) as { attachments: { state: string; cidr: string; origin: string }[] };
      expect(doc.attachments, "a reboot with Kea silent: held from the cache").toMatchObject([
        { state: "held", cidr: labNode.cidr, origin: "cache" },
      ]);
      expect(await labNode.addresses()).toEqual([labNode.cidr]);
      expect((await node.exec("pgrep", ["-x", "dhclient"])).code).toBe(1);
    } finally {
      lab.topo.kea!.resume();
    }
    const cacheText = await readFile(join(node.upperDir, "var/lib/holdfast/pn0.json"), "utf8");
    expect(JSON.parse(cacheText)).toMatchObject({
      cidr: labNode.cidr,
      identity: { kind: "existing", mac: labNode.mac },
    });
  }, 180_000);

  it("upgrades the adopted node to a new bundle with no probe lost", async () => {
    const node = lab.nodes[INCIDENT]!;
    const labNode = lab.topo.nodes[INCIDENT]!;
    expect((await node.exec("systemd-run", ["--unit=up-server-2", "node", "-e", UP_SERVER])).code).toBe(0);
    const pidBefore = (await node.exec("systemctl", ["show", "-p", "MainPID", "--value", "holdfast"])).stdout;
    // another build of the same version: its sha256 differs, so converge upgrades
    await writeFile(bundle, `${await readFile(bundle, "utf8")}// rebuilt\n`);
    const inventory = await writeInventory(workDir, [INCIDENT], labSpec(), "incident.yaml");
    const { failures, total, when } = await whileProbing(labNode, "upgrade", async () => {
      const { code, report } = await convergeJson(inventory);
      expect(report.hosts[0]!.error).toBeUndefined();
      expect(report.hosts[0]).toMatchObject({ outcome: "converged", plan: { kind: "upgrade" } });
      expect(report.hosts[0]!.changes).toEqual(["/usr/local/lib/holdfast/holdfast.mjs"]);
      expect(code).toBe(0);
    });
    expect(total).toBeGreaterThan(20);
    expect(failures, `the runner's probes during the upgrade: ${when}`).toEqual([]);
    const pidAfter = (await node.exec("systemctl", ["show", "-p", "MainPID", "--value", "holdfast"])).stdout;
    expect(pidAfter, "the agent restarted on the new bundle").not.toBe(pidBefore);
  }, 120_000);
});
