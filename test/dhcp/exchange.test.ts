import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { dhclientExchange } from "../../src/dhcp/dhclient.js";
import { dhcpcdExchange } from "../../src/dhcp/dhcpcd.js";
import { exchange } from "../../src/dhcp/exchange.js";
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
    [udhcpcExchange, dhcpcdExchange, dhclientExchange].flatMap((spec) =>
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
});
