/**
 * Issue 14: a start on a config the agent validated before holds from the kept result
 * (src/config/snapshot.ts), and nothing else does: the real bundle in a namespace, restarted
 * the way systemd restarts it (STATE_DIRECTORY set), under Node 20 and Node 18.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SNAPSHOT_FILE } from "../../src/config/snapshot.js";
import { addressesOf, FOREVER, NODE18, NODE20, runAgent, waitFor } from "../helpers/agent-process.js";
import { skipUnlessRoot } from "../helpers/root.js";
import { uniquePrefix } from "../helpers/topology.js";
import { useVethNamespace } from "../helpers/veth-namespace.js";

const skip = skipUnlessRoot(import.meta.url, "the agent restarted on a kept config in a namespace");

const attachment = (cidr: string) => ({
  interface: "pn0",
  link: { kind: "existing" },
  address: { source: "static", cidr },
});

describe.skipIf(skip)("the agent's kept config (namespace)", () => {
  const namespace = useVethNamespace(`${uniquePrefix("cs")}n`);

  const cidrs = async () => (await addressesOf(namespace.current)).map((a) => a.cidr);

  it.each([
    ["Node 20", NODE20],
    ["Node 18", NODE18],
  ])("%s: holds from the kept result on a restart, and from the file once it changes", async (_, node) => {
    const config = { attachments: [attachment("198.18.0.41/22")] };
    const first = runAgent(namespace.current, config, { node });
    await first.waitLog(/^pn0: held /, 15_000);
    // kept once the first hold is done (agent.started)
    const kept = join(first.stateDir, SNAPSHOT_FILE);
    await waitFor("the kept config", () => existsSync(kept), 5000, 20);
    expect((await first.stop()).code).toBe(0);
    const snapshot = JSON.parse(readFileSync(kept, "utf8")) as {
      text: string;
      config: { attachments: Array<{ address: { cidr: string } }> };
    };
    expect(snapshot.text).toBe(readFileSync(first.configPath, "utf8"));

    // Proof the restart uses the kept result and not the file: the same text, a kept result
    // altered to another address. (Only a root-owned file in the unit's StateDirectory= can
    // say this; a real snapshot always matches its text.)
    snapshot.config.attachments[0]!.address.cidr = "198.18.0.42/22";
    writeFileSync(kept, JSON.stringify(snapshot));
    await namespace.current.exec("ip", ["addr", "flush", "dev", "pn0"]);
    const second = runAgent(namespace.current, config, { node, dir: first.dir });
    await second.waitLog(/^pn0: held /, 15_000);
    expect(second.messages()).toContain("pn0: held 198.18.0.42/22 (from static)");
    expect((await second.stop()).code).toBe(0);

    // an edited file is validated and held as written
    await namespace.current.exec("ip", ["addr", "flush", "dev", "pn0"]);
    const third = runAgent(
      namespace.current,
      { attachments: [attachment("198.18.0.43/22")] },
      { node, dir: first.dir },
    );
    await third.waitLog(/^pn0: held /, 15_000);
    expect(third.messages()).toContain("pn0: held 198.18.0.43/22 (from static)");
    expect(await addressesOf(namespace.current)).toEqual([
      { cidr: "198.18.0.43/22", validLft: FOREVER, preferredLft: FOREVER },
    ]);
    expect((await third.stop()).code).toBe(0);
  });

  it("a config that became invalid is refused with exit 2 and the held address stays", async () => {
    const first = runAgent(namespace.current, { attachments: [attachment("198.18.0.44/22")] });
    await first.waitLog(/^pn0: held /, 15_000);
    expect((await first.stop()).code).toBe(0);
    const bad = runAgent(
      namespace.current,
      { attachments: [{ ...attachment("198.18.0.44/22"), link: { kind: "vlan" } }] },
      {
        dir: first.dir,
      },
    );
    const exit = await bad.proc.exited;
    expect(exit.code).toBe(2);
    expect(readFileSync(bad.logPath, "utf8")).toMatch(/invalid config[\s\S]*attachments\[0\]\.link\.vlanId/);
    expect(await cidrs()).toEqual(["198.18.0.44/22"]);
  });
});
