/**
 * The restore latency the README advertises, gated: the held address is deleted 50 times in
 * a namespace and the real agent puts it back, timed from the kernel's own event stream
 * (`ip -ts monitor address`, µs). The bounds hold on a busy machine; the tight figures are
 * bench/restore-latency.ts's. Beside it in the same run, dhclient (the unit before the fix)
 * loses its address the same way, as the yardstick the ratio is taken against.
 */
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { AddressWatch } from "../../src/harness/address-watch.js";
import type { LabNode } from "../../src/harness/topology.js";
import { dhclientCommand, prepareDhclientSandbox } from "../../src/lab/impls/dhclient-sandbox.js";
import { runAgent, waitFor } from "../helpers/agent-process.js";
import { skipUnlessRoot } from "../helpers/root.js";
import { uniquePrefix, useTopology } from "../helpers/topology.js";

const skip = skipUnlessRoot(import.meta.url, "the agent and dhclient in namespaces against Kea");

const ROUNDS = 50;
/** the README says a few ms (p99 3.7 ms quiet, ~20–25 ms with four busy loops on 2 CPUs) */
const P99_BOUND_MS = 50;
/**
 * dhclient notices a deleted address only when its renewal fails (no address to send from),
 * then discovers again: seconds (2.3–5.9 s seen with 4 s leases). Against holdfast's median,
 * which a neighbour's load moves far less than the tail, so the ratio holds on a busy machine.
 */
const PEER_RATIO = 100;
/** short, so the peer's restore fits beside the 50 rounds */
const LEASE_S = 4;
/** after the agent logged a restore, for the rest of its reconcile pass (route and link reads) */
const ROUND_GAP_MS = 200;
/** a round's restore that takes longer fails the gate outright */
const ROUND_TIMEOUT_MS = 2000;

/** Nearest-rank percentile of sorted values; with 50 values p99 is the maximum. */
const percentile = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

/**
 * Deletes the node's address and returns the kernel-stamped time from its deletion to its
 * return (ms, µs precision), or undefined when it is not back within timeoutMs.
 */
async function deleteAndTime(
  node: LabNode,
  watch: AddressWatch,
  timeoutMs: number,
): Promise<number | undefined> {
  const since = watch.samples.length;
  await node.ns.exec("ip", ["addr", "del", node.cidr, "dev", "pn0"]);
  if (!(await watch.waitAbsentThenPresent(since, timeoutMs))) return undefined;
  const recent = watch.samples.slice(since);
  const lost = recent.findIndex((s) => !s.present);
  const back = recent.slice(lost).find((s) => s.present)!;
  return back.t - recent[lost]!.t;
}

describe.skipIf(skip)("restore after delete (the advertised figure)", () => {
  const topo = useTopology({
    prefix: uniquePrefix("rg"),
    leaseSeconds: LEASE_S,
    nodes: [
      { name: "n1", ip: "198.18.0.51" },
      { name: "n2", ip: "198.18.0.52" },
    ],
  });

  it(`restores with p99 ≤ ${P99_BOUND_MS} ms, its median ${PEER_RATIO}× faster than dhclient`, async () => {
    const [held, peer] = topo.current.nodes as [LabNode, LabNode];
    const watch = new AddressWatch(held);
    const peerWatch = new AddressWatch(peer);
    await Promise.all([watch.start(), peerWatch.start()]);
    const agent = runAgent(held.ns, {
      attachments: [{ interface: "pn0", address: { source: "static", cidr: held.cidr } }],
    });
    const leaseDir = join(topo.current.workDir, "peer-dhclient");
    const sandbox = await prepareDhclientSandbox(leaseDir, leaseDir);
    const peerCmd = dhclientCommand(sandbox, [
      "-d",
      "-4",
      "-lf",
      `${leaseDir}/lease`,
      "-pf",
      `${leaseDir}/pid`,
      "pn0",
    ]);
    const dhclient = peer.ns.spawn(peerCmd.file, peerCmd.args, { stdout: `${leaseDir}/dhclient.log` });
    try {
      await agent.waitLog(/^pn0: held /, 20_000);
      expect(await peerWatch.waitPresent(20_000), "dhclient bound its lease").toBe(true);
      // right after its bind, so its whole lease lies ahead: the peer's time runs meanwhile
      await sleep(300);
      const peerWindowMs = 4 * LEASE_S * 1000;
      const peerRestore = deleteAndTime(peer, peerWatch, peerWindowMs);
      peerRestore.catch(() => undefined); // awaited below; a round failing first must not leave it unheard

      // Each deletion finds the agent idle, as a real one does (deletions are rare events): the
      // next comes after the agent logged this one and a further ROUND_GAP_MS for the rest of its
      // pass. Back to back, a deletion waits behind the previous pass's reads (tens of ms under
      // load), which is the lab's address-flush case, not this figure.
      const reasserts = (): number => agent.messages().filter((m) => m.includes(", re-asserted ")).length;
      const latencies: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const before = reasserts();
        const ms = await deleteAndTime(held, watch, ROUND_TIMEOUT_MS);
        expect(ms, `round ${round}: address not back within ${ROUND_TIMEOUT_MS} ms`).toBeDefined();
        latencies.push(ms!);
        await waitFor(`round ${round}: the agent's log line`, () => reasserts() > before, 10_000, 5);
        await sleep(ROUND_GAP_MS);
      }
      latencies.sort((a, b) => a - b);
      const [p50, p99] = [percentile(latencies, 50), percentile(latencies, 99)];
      // not back within the window: dhclient is at least that slow
      const peerMs = (await peerRestore) ?? peerWindowMs;
      const figures =
        `holdfast p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms (the max of ${ROUNDS}); ` +
        `dhclient ${(peerMs / 1000).toFixed(2)} s, ${Math.round(peerMs / p50)}× holdfast's p50`;
      console.log(`restore gate: ${figures}`);

      expect(p99, `restore p99 over ${ROUNDS} deletions: ${figures}`).toBeLessThanOrEqual(P99_BOUND_MS);
      expect(peerMs / p50, `dhclient against holdfast in the same run: ${figures}`).toBeGreaterThanOrEqual(
        PEER_RATIO,
      );
    } finally {
      dhclient.kill("SIGKILL");
      await dhclient.exited;
      await agent.stop();
      watch.stop();
      peerWatch.stop();
    }
  }, 60_000);
});
