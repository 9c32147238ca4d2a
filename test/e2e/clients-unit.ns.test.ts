import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bootNode, type BootedNode } from "../../src/harness/booted-node.js";
import { createTopology, type Topology } from "../../src/harness/topology.js";
import { pn0Spec, renderScript, rootfsFor } from "../helpers/booted-node.js";
import { uniquePrefix } from "../helpers/topology.js";

/*
 * Each DHCP client the agent can run, discovering under the hardened unit (its syscall
 * filter, capabilities and private mounts), on a booted node: the agent tests run it bare,
 * and `holdfast prove`'s VM found udhcpc's lease lost: Debian's /run is noexec, so the
 * client could not run the hook there. The nodes mount /run noexec as a real server does
 * (src/harness/node-run-noexec.ts); the exchanges move to stateDir.
 */
const rootfs = (await rootfsFor(import.meta.url)) ?? "";

const CLIENTS = ["udhcpc", "dhclient"] as const;

describe.skipIf(rootfs === "")("each DHCP client under the hardened unit", () => {
  let workDir: string;
  let topo: Topology;
  const nodes: BootedNode[] = [];

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), "hf-clients-unit-"));
    topo = await createTopology({
      prefix: uniquePrefix("cu"),
      workDir,
      nodes: CLIENTS.map((client, i) => ({ name: client, ip: `198.18.0.${10 + i}` })),
    });
    nodes.push(
      ...(await Promise.all(
        CLIENTS.map((client, i) => bootNode({ rootfs, ns: topo.nodes[i]!.ns, name: client, workDir })),
      )),
    );
  }, 180_000);

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.destroy()));
    await topo?.destroy();
    if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
  }, 60_000);

  for (const [i, client] of CLIENTS.entries()) {
    it(`discovers through ${client} and holds`, async () => {
      const script = await renderScript(
        pn0Spec(client, {
          address: { source: "dhcp", dhcpClient: client },
          discovery: { attemptTimeout: "3s", maxBackoff: "2s" },
        }),
        workDir,
        client,
      );
      const installed = await nodes[i]!.exec("bash", ["-c", "HOLDFAST_WAIT_SECONDS=60 bash -s"], {
        input: script,
        timeoutMs: 120_000,
      });
      const journal = (
        await nodes[i]!.exec("journalctl", ["-u", "holdfast.service", "--no-pager", "-o", "cat"])
      ).stdout;
      expect(installed.stdout, `${installed.stderr}\n${journal}`).toMatch(
        new RegExp(`^holdfast: ${client}: held pn0 198\\.18\\.0\\.${10 + i}/22 `),
      );
      expect(journal).toContain(`pn0: discovered 198.18.0.${10 + i}/22 via ${client}`);
      const run = await nodes[i]!.exec("findmnt", ["-no", "OPTIONS", "/run"]);
      expect(run.stdout, "the node's /run is noexec, as on a real Debian server").toMatch(/\bnoexec\b/);
      expect(journal).toMatch(
        /runDir \/run\/holdfast does not let a DHCP client run holdfast's hook \(noexec\); DHCP exchanges run in \/var\/lib\/holdfast/,
      );
      expect(await topo.nodes[i]!.addresses()).toEqual([topo.nodes[i]!.cidr]);
    }, 150_000);
  }
});
