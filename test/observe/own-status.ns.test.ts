/**
 * Issue 13 rows 6, 7 and 10 on the reading side: `check` and `status` (the CLI bundle, in a
 * namespace) report what the kernel has, never hang on a special status.json, never show
 * another file's content, and never pass control characters to the terminal.
 */
import { spawnSync } from "node:child_process";
import { execFileSync } from "node:child_process";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Netns } from "../../src/harness/netns.js";
import { BUNDLE, requireBundle } from "../helpers/agent-process.js";
import { skipUnlessRoot } from "../helpers/root.js";
import { uniquePrefix } from "../helpers/topology.js";
import { scratchDir } from "../helpers/scratch.js";

const skip = skipUnlessRoot(import.meta.url, "check and status against the kernel");

const CIDR = "198.18.0.51/22";

function statusDocument(lastError: string | null = null, cidr = CIDR) {
  const now = new Date().toISOString();
  return {
    version: 1,
    // this test's own pid: alive, so the agent reads as running
    agent: {
      pid: process.pid,
      version: "0.1.0",
      startedAt: now,
      updatedAt: now,
      reconcileIntervalMs: 30_000,
    },
    attachments: [
      {
        interface: "pn0",
        state: "held",
        cidr,
        origin: "static",
        heldSince: now,
        lastReconcileAt: now,
        reasserts: 0,
        lastError,
      },
    ],
  };
}

describe.skipIf(skip)("check and status tell the truth (namespace)", () => {
  let ns: Netns;
  beforeAll(async () => {
    requireBundle();
    ns = await Netns.create(`${uniquePrefix("os")}n`);
    const add = await ns.exec("ip", ["link", "add", "pn0", "type", "veth", "peer", "name", "pn0peer"]);
    expect(add.code, add.stderr).toBe(0);
    await ns.exec("ip", ["link", "set", "pn0", "up"]);
  });
  afterAll(async () => {
    await ns?.destroy();
  });

  function setup(prepare: (runDir: string) => void) {
    const dir = scratchDir("hf-ost-");
    const runDir = join(dir, "run");
    mkdirSync(runDir);
    prepare(runDir);
    const config = join(dir, "holdfast.json");
    writeFileSync(
      config,
      JSON.stringify({
        version: 1,
        stateDir: join(dir, "state"),
        runDir,
        attachments: [{ interface: "pn0", address: { source: "static", cidr: CIDR } }],
      }),
    );
    const cli = (...args: string[]) => {
      const started = performance.now();
      const r = spawnSync(
        "ip",
        ["netns", "exec", ns.name, process.execPath, BUNDLE, ...args, "--config", config],
        {
          encoding: "utf8",
          timeout: 10_000,
        },
      );
      return { code: r.status, out: r.stdout, err: r.stderr, ms: performance.now() - started };
    };
    return cli;
  }

  // row 6
  it("check says problem, not ok, when status says held but the address is not on the link", async () => {
    await ns.exec("ip", ["addr", "flush", "dev", "pn0"]);
    const cli = setup((runDir) =>
      writeFileSync(join(runDir, "status.json"), JSON.stringify(statusDocument())),
    );
    const check = cli("check");
    expect(check.out.trim()).toBe(`problem: pn0 ${CIDR} not on the link`);
    expect(check.code).toBe(1);
    const status = cli("status");
    expect(status.out).toContain(`${CIDR} (static) NOT ON LINK`);
    const json = JSON.parse(cli("status", "--json").out) as { attachments: Array<{ onLink: boolean }> };
    expect(json.attachments[0]?.onLink).toBe(false);

    await ns.exec("ip", ["addr", "add", CIDR, "dev", "pn0"]);
    const ok = cli("check");
    expect(ok.out.trim()).toBe(`ok: pn0 held ${CIDR}`);
    expect(ok.code).toBe(0);
  });

  // row 7
  it.each([
    ["a FIFO", (p: string) => execFileSync("mkfifo", [p])],
    ["a /dev/zero symlink", (p: string) => symlinkSync("/dev/zero", p)],
  ])("neither status nor check hangs on %s as status.json", (_what, make) => {
    const cli = setup((runDir) => make(join(runDir, "status.json")));
    const check = cli("check");
    expect(check.code).toBe(2);
    expect(check.out).toMatch(/^unknown: cannot read .*status\.json/);
    expect(check.ms).toBeLessThan(5000);
    const status = cli("status");
    expect(status.code).toBe(1);
    expect(status.ms).toBeLessThan(5000);
  });

  // row 10
  it("never shows another file's content through a status.json symlink", () => {
    const secret = join(scratchDir("hf-ost-"), "shadow");
    writeFileSync(secret, "root:$6$saltsalt$hash:19000:0:99999:7:::\n");
    const cli = setup((runDir) => symlinkSync(secret, join(runDir, "status.json")));
    for (const command of ["status", "check"]) {
      const r = cli(command);
      expect(r.code, r.err).not.toBe(0);
      expect(r.out + r.err, command).not.toMatch(/root:|\$6\$|saltsalt/);
      expect(r.out + r.err).toMatch(/symlink/);
    }
  });

  it("escapes control characters of lastError in status and check", async () => {
    await ns.exec("ip", ["addr", "flush", "dev", "pn0"]);
    const doc = statusDocument("route: \u001b[2J\u001b]0;pwned\u0007 refused");
    doc.attachments[0]!.state = "failed";
    const cli = setup((runDir) => writeFileSync(join(runDir, "status.json"), JSON.stringify(doc)));
    for (const command of ["status", "check"]) {
      const r = cli(command);
      expect(r.out.includes("\u001b") || r.out.includes("\u0007"), command).toBe(false);
      expect(r.out, command).toContain("\\x1b[2J");
    }
  });
});
