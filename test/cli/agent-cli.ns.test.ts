/** `holdfast agent` through the bundled CLI in a namespace: the one-agent lock, the metrics port. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Netns } from "../../src/harness/netns.js";
import { runAgent } from "../helpers/agent-process.js";
import { skipUnlessRoot } from "../helpers/root.js";

const skip = skipUnlessRoot(import.meta.url, "runs the agent in a namespace");

describe.skipIf(skip)("holdfast agent: one agent per runDir", () => {
  it("holds the address even when its metrics port is taken, and says so", async () => {
    const ns = await Netns.create(`hfmp${process.pid}`);
    try {
      await ns.exec("ip", ["link", "add", "pn0", "type", "veth", "peer", "name", "pn0p"]);
      const squatter = ns.spawn(process.execPath, [
        "-e",
        "require('net').createServer().listen(9464, '127.0.0.1'); setTimeout(() => {}, 60000)",
      ]);
      try {
        await new Promise((r) => setTimeout(r, 300));
        const agent = runAgent(ns, {
          metrics: { listen: "127.0.0.1:9464" },
          attachments: [{ interface: "pn0", address: { source: "static", cidr: "198.18.0.31/22" } }],
        });
        await agent.waitLog(/^pn0: held /);
        // the hold comes first; the metrics port is tried once every attachment had its first pass
        await agent.waitLog(/^agent: metrics: /);
        expect(agent.messages()).toContain("agent: metrics: cannot serve metrics: 127.0.0.1:9464");
        expect((await agent.stop()).code).toBe(0);
      } finally {
        squatter.kill("SIGKILL");
        await squatter.exited;
      }
    } finally {
      await ns.destroy();
    }
  });

  it("refuses a second agent with a clear message, exit 1, and leaves the first running", async () => {
    const ns = await Netns.create(`hflk${process.pid}`);
    try {
      await ns.exec("ip", ["link", "add", "pn0", "type", "veth", "peer", "name", "pn0p"]);
      const config = {
        metrics: { listen: "127.0.0.1:9464" },
        attachments: [{ interface: "pn0", address: { source: "static", cidr: "198.18.0.30/22" } }],
      };
      const first = runAgent(ns, config);
      await first.waitLog(/^pn0: held /);
      const second = runAgent(ns, config, { dir: first.dir });
      const exit = await second.proc.exited;
      expect(exit.code).toBe(1);
      expect(readFileSync(second.logPath, "utf8")).toContain(
        `holdfast: another holdfast agent is already running: ${second.runDir}\n  pid ${first.proc.pid} holds`,
      );
      expect(first.proc.pid).toBeGreaterThan(0);
      expect((await ns.pids()).includes(first.proc.pid)).toBe(true);
      expect((await first.stop()).code).toBe(0);
    } finally {
      await ns.destroy();
    }
  });
});
