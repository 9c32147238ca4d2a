import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { dhclientExchange } from "../../src/dhcp/dhclient.js";
import { dhcpcdExchange, dhcpcdServiceExchange } from "../../src/dhcp/dhcpcd.js";
import { exchange, type ExchangeSpec } from "../../src/dhcp/exchange.js";
import { udhcpcExchange } from "../../src/dhcp/udhcpc.js";
import type { Runner } from "../../src/util/exec.js";

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** A runner that records what it was asked to start and starts nothing. */
function recordingRunner(): { runner: Runner; calls: string[][] } {
  const calls: string[][] = [];
  const runner: Runner = (file, args) => {
    calls.push([file, ...args]);
    return Promise.resolve({
      command: file,
      code: 1,
      signal: null,
      stdout: "",
      stderr: "",
      timedOut: false,
      durationMs: 0,
    });
  };
  return { runner, calls };
}

describe("one DHCP exchange", () => {
  it.each(
    [udhcpcExchange, dhcpcdExchange, dhcpcdServiceExchange, dhclientExchange].flatMap((spec) =>
      ["-k", "-r", "--release", ".x", "a b", "sixteen-chars-00"].map((iface) => ({
        spec,
        iface,
        client: spec.client,
      })),
    ),
  )("GIVEN $client and interface $iface THEN refused before any client starts", async ({ spec, iface }) => {
    const workDir = await mkdtemp(join(tmpdir(), "hf-exchange-"));
    dirs.push(workDir);
    const { runner, calls } = recordingRunner();
    await expect(exchange(runner, iface, { timeoutMs: 2000, workDir }, spec)).rejects.toThrow(
      `${spec.client}: invalid interface name ${JSON.stringify(iface)}`,
    );
    expect(calls).toEqual([]);
  });

  describe("GIVEN a PATH without the sbin dirs (a non-login shell, a minimal service environment)", () => {
    const saved = process.env.PATH;
    afterEach(() => {
      process.env.PATH = saved;
    });

    it.each([
      { spec: udhcpcExchange, client: "udhcpc" },
      { spec: dhcpcdExchange, client: "dhcpcd" },
      { spec: dhcpcdServiceExchange, client: "dhcpcd" },
      { spec: dhclientExchange, client: "dhclient" },
    ])("$client: every program is started by its absolute path", async ({ spec }) => {
      process.env.PATH = "/usr/bin:/bin";
      const workDir = await mkdtemp(join(tmpdir(), "hf-exchange-"));
      dirs.push(workDir);
      const { runner, calls } = recordingRunner();
      // the recording runner starts nothing, so no lease: the exchange fails after the run
      await expect(exchange(runner, "pn0", { timeoutMs: 2000, workDir }, spec)).rejects.toThrow(
        `${spec.client} failed on pn0`,
      );
      const argv = calls[0] ?? [];
      expect(argv[0]).toMatch(/^\//);
      for (const program of spec.programs) {
        const path = argv.find((word) => word.endsWith(`/${program}`));
        expect(path, `${program} in ${JSON.stringify(argv)}`).toMatch(/^\//);
      }
      expect(argv).not.toContain(spec.client === "udhcpc" ? "busybox" : spec.client);
    });

    it("a program found nowhere is a plain error naming it and where it was looked for", async () => {
      process.env.PATH = "/usr/bin:/bin";
      const spec: ExchangeSpec = { ...dhclientExchange, programs: ["hf-no-such-client"] };
      const workDir = await mkdtemp(join(tmpdir(), "hf-exchange-"));
      dirs.push(workDir);
      const { runner, calls } = recordingRunner();
      await expect(exchange(runner, "pn0", { timeoutMs: 2000, workDir }, spec)).rejects.toThrow(
        "dhclient: hf-no-such-client not found in PATH or /usr/local/sbin, /usr/sbin, /sbin",
      );
      expect(calls).toEqual([]);
    });
  });
});
