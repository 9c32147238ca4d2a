import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createUdhcpcAdapter } from "../../dhcp/udhcpc.js";
import { errorMessage } from "../../errors.js";
import { upUrl } from "../../harness/instruments.js";
import type { LabNode } from "../../harness/topology.js";
import type { RunHandle, ScenarioContext } from "./types.js";

/**
 * The faults of "the server speaks" (issue 10): IPAM moving a reservation while the server
 * answers, and a second client asking a one-address pool for the held address.
 */

/** Where IPAM moves a node's reservation: 198.18.0.x -> 198.18.2.x, the same /22. */
export function movedAddress(ip: string): string {
  return ip.replace(/^198\.18\.0\./, "198.18.2.");
}

const POLL_MS = 100;
const PROBES = 5;
const PROBE_GAP_MS = 200;
const PROBE_SCRIPT =
  "fetch(process.argv[1], { signal: AbortSignal.timeout(1000) })" +
  ".then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))";

const watchers = new WeakMap<RunHandle, { stop: () => void }>();

/**
 * Reloads Kea with every node's reservation moved, and watches each node until it holds the
 * new address without the old one (marks `moved`, notes how long it took).
 */
export async function moveReservations(ctx: ScenarioContext): Promise<void> {
  const kea = ctx.topo.kea;
  if (kea === undefined) throw new Error("ipam-change needs a running DHCP server");
  await kea.reload({
    reservations: ctx.runs.map((r) => ({ mac: r.node.mac, ip: movedAddress(r.node.ip) })),
  });
  const reloadedAt = Date.now();
  for (const run of ctx.runs) {
    let stopped = false;
    watchers.set(run, { stop: () => (stopped = true) });
    const target = `${movedAddress(run.node.ip)}/${run.node.cidr.split("/")[1] ?? "22"}`;
    void (async () => {
      while (!stopped) {
        const cidrs = await run.node.addresses().catch((): string[] => []);
        if (cidrs.includes(target) && !cidrs.includes(run.node.cidr)) {
          run.mark("moved");
          run.findings.set("moved-ms", String(Date.now() - reloadedAt));
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    })();
  }
}

/** At the end of ipam-change: what pn0 holds, and a few probes from the runner to the new address. */
export async function probeNewAddress(ctx: ScenarioContext, run: RunHandle): Promise<void> {
  watchers.get(run)?.stop();
  const cidrs = await run.node.addresses().catch((): string[] => []);
  run.findings.set("addresses", cidrs.join(" ") || "none");
  run.findings.set("old-gone", cidrs.includes(run.node.cidr) ? "no" : "yes");
  const url = upUrl(movedAddress(run.node.ip));
  let ok = 0;
  for (let i = 0; i < PROBES; i++) {
    // this Node, from the runner's namespace: no HTTP client beyond what the lab already needs
    const result = await ctx.topo.runner.exec(process.execPath, ["-e", PROBE_SCRIPT, url], {
      timeoutMs: 5000,
    });
    if (result.code === 0) ok++;
    await new Promise((resolve) => setTimeout(resolve, PROBE_GAP_MS));
  }
  run.findings.set("probes", ok === PROBES ? "ok" : `${ok} of ${PROBES} succeeded`);
}

/**
 * pool-reuse: a second client in the run's pool class asks the server (one real udhcpc
 * exchange from its own namespace, configuring nothing). Notes what it was given.
 */
export async function secondClient(
  _ctx: ScenarioContext,
  run: RunHandle,
  intruder: LabNode,
  timeoutMs: number,
): Promise<void> {
  const workDir = await mkdtemp(join(tmpdir(), "hflab-second-"));
  try {
    const adapter = createUdhcpcAdapter({ runner: intruder.ns.exec.bind(intruder.ns) });
    const lease = await adapter.discover(intruder.ifname, { timeoutMs, workDir });
    run.findings.set("second-client", lease.cidr);
  } catch (error) {
    run.findings.set("second-client", "refused");
    run.findings.set("second-client-detail", errorMessage(error));
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}
