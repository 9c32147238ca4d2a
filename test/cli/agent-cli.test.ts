/** `holdfast agent` through the bundled CLI: bad input and the one-agent lock, as a user meets them. */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { Netns } from "../../src/harness/netns.js";
import { BUNDLE, NODE18, requireBundle, runAgent } from "../helpers/agent-process.js";
import { isRoot, warnSkipped } from "../helpers/root.js";

const exec = promisify(execFile);

async function cli(
  args: string[],
  node = process.execPath,
): Promise<{ code: number; stdout: string; stderr: string }> {
  requireBundle();
  try {
    const { stdout, stderr } = await exec(node, [BUNDLE, ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function configFile(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "hf-cli-")), "holdfast.yaml");
  writeFileSync(path, text);
  return path;
}

describe("holdfast agent: bad input exits 2 naming the file and field", () => {
  it.each([
    [
      "version: 1\nattachments:\n  - interface: pn0\n    link: { kind: vlan, vlanId: 5000 }\n",
      "attachments[0].link.vlanId: expected an integer 1-4094, got 5000",
    ],
    [
      "version: 1\nattachments:\n  - interface: pn0\n    colour: blue\n",
      "attachments[0].colour: unknown field",
    ],
    [
      "version: 1\nattachments:\n  - interface: pn0\n    address: { source: static }\n",
      'attachments[0].address.cidr: expected an IPv4 CIDR like "172.16.0.2/22", got nothing',
    ],
    [
      "version: 1\nattachments:\n  - interface: pn0\n    discovery: { maxBackoff: 30 }\n",
      "attachments[0].discovery.maxBackoff: expected a duration like",
    ],
    ["version: 1\nattachments: [\n", "not valid YAML or JSON"],
  ])("%j", async (text, detail) => {
    const path = configFile(text);
    const result = await cli(["agent", "--config", path], NODE18);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(path);
    expect(result.stderr).toContain(detail);
  });

  it("a missing config file", async () => {
    const result = await cli(["agent", "--config", "/nonexistent/holdfast.yaml"]);
    expect(result).toMatchObject({
      code: 2,
      stderr: "holdfast: cannot read file: /nonexistent/holdfast.yaml\n  no such file\n",
    });
  });

  it("an unknown command or option", async () => {
    expect((await cli(["agnet"])).code).toBe(2);
    expect((await cli(["agent", "--bogus"])).code).toBe(2);
  });
});

if (!isRoot) warnSkipped("test/cli/agent-cli.test.ts one-agent lock (runs the agent in a namespace)");

describe.skipIf(!isRoot)("holdfast agent: one agent per runDir", () => {
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
