import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AddressWatch } from "../../src/lab/address-watch.js";
import { bootNode, type BootedNode } from "../../src/lab/booted-node.js";
import { bundlePath } from "../../src/lab/self.js";
import { createTopology, type LabNode, type Topology } from "../../src/lab/topology.js";
import { run } from "../../src/util/exec.js";
import { ensureRootfs } from "../helpers/booted-node.js";
import { uniquePrefix } from "../helpers/topology.js";

/*
 * dhcpcd under the hardened unit, on a real systemd node: the unit gives dhcpcd a private
 * /run and /var/lib/dhcpcd instead of CAP_SYS_ADMIN, and dhcpcd's privilege separation runs
 * its main process as the dhcpcd user, which root without CAP_KILL cannot signal. This is
 * the default client on Ubuntu 24.04 (no dhclient, no busybox), so `auto` lands here.
 */

const built = await ensureRootfs();
const skip = "skip" in built ? built.skip : undefined;
if (skip !== undefined) console.warn(`\n*** SKIPPED: test/render/booted-dhcpcd.test.ts: ${skip} ***\n`);

const LEASE_SECONDS = 10;
const NODE = { name: "n1", ip: "198.18.0.10" };
const EXPOSURE_BOUND = 2.5;

const numbers: Record<string, number | string> = {};

function spec(): object {
  return {
    version: 1,
    node: { name: NODE.name },
    agent: {
      install: "embedded",
      config: {
        version: 1,
        attachments: [
          {
            interface: "pn0",
            link: { kind: "existing" },
            address: { source: "dhcp", dhcpClient: "dhcpcd" },
            discovery: { attemptTimeout: "3s", maxBackoff: "2s" },
          },
        ],
      },
    },
  };
}

describe.skipIf(skip !== undefined)("dhcpcd under the hardened unit on a booted node", () => {
  const rootfs = "rootfs" in built ? built.rootfs : "";
  let workDir: string;
  let topo: Topology;
  let node: BootedNode;
  let lab: LabNode;
  let watch: AddressWatch;
  let script: string;

  /** dhcpcd processes anywhere on the node (privsep retitles them "dhcpcd: ..."). */
  async function dhcpcdProcesses(): Promise<string[]> {
    const found = await node.exec("ps", ["-eo", "pid=,uid=,args="]);
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
    workDir = await mkdtemp(join(tmpdir(), "hf-booted-dhcpcd-"));
    topo = await createTopology({
      prefix: uniquePrefix("rd"),
      workDir,
      leaseSeconds: LEASE_SECONDS,
      nodes: [NODE],
    });
    lab = topo.nodes[0]!;
    node = await bootNode({ rootfs, ns: lab.ns, name: NODE.name, workDir });
    watch = new AddressWatch(lab);
    await watch.start();
    const specPath = join(workDir, "spec.json");
    await writeFile(specPath, JSON.stringify(spec()));
    const rendered = await run(
      process.execPath,
      [bundlePath(), "render", "--spec", specPath, "--format", "script"],
      {
        timeoutMs: 60_000,
      },
    );
    if (rendered.code !== 0) throw new Error(`holdfast render failed: ${rendered.stderr}`);
    script = rendered.stdout;
  }, 180_000);

  afterAll(async () => {
    console.info(`\nbooted dhcpcd test numbers:\n${JSON.stringify(numbers, null, 2)}\n`);
    watch?.stop();
    await node?.destroy();
    await topo?.destroy();
    if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
  }, 60_000);

  it("GIVEN the rendered script WHEN it runs THEN dhcpcd discovers, the agent holds the address, and no dhcpcd process is left", async () => {
    const start = Date.now();
    const installed = await node.exec("bash", ["-c", "HOLDFAST_WAIT_SECONDS=60 bash -s"], {
      input: script,
      timeoutMs: 120_000,
    });
    expect(installed.stdout).toMatch(/^holdfast: n1: held pn0 198\.18\.0\.10\/22 /);
    expect(installed.code).toBe(0);
    numbers["install: script run ms"] = Date.now() - start;
    expect(await lab.addresses()).toEqual([lab.cidr]);
    expect(await journal()).toContain("pn0: discovered 198.18.0.10/22 via dhcpcd");
    // the agent's status file is on the host's /run, not only in the unit's private one
    expect(await status()).toMatchObject({ state: "held", origin: "dhcp" });
    // dhcpcd's own pid file went to the unit's private /run
    expect((await node.exec("test", ["-e", "/run/.pid"])).code).not.toBe(0);
    expect(await dhcpcdProcesses()).toEqual([]);
  });

  it("GIVEN the unit as installed THEN systemd-analyze security scores it within the bound", async () => {
    const analyzed = await node.exec("systemd-analyze", ["security", "--no-pager", "holdfast.service"]);
    const score = Number(/Overall exposure level for holdfast\.service: ([\d.]+)/.exec(analyzed.stdout)?.[1]);
    numbers["exposure (systemd-analyze security, online)"] = score;
    expect(score).toBeGreaterThan(0);
    expect(score).toBeLessThanOrEqual(EXPOSURE_BOUND);
  });

  it("GIVEN Kea silent and no cache WHEN the agent restarts THEN each timed-out exchange is reaped, and once Kea answers the next one holds the address", async () => {
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
      expect(most).toBeLessThanOrEqual(3);
    } finally {
      kea.resume();
    }
    const resumed = Date.now();
    expect(await watch.waitPresent(20_000)).toBe(true);
    numbers["silent: Kea back to address held ms"] = Date.now() - resumed;
    expect(await status()).toMatchObject({ state: "held", origin: "dhcp" });
    await sleep(500);
    expect(await dhcpcdProcesses()).toEqual([]);
  }, 60_000);
});
