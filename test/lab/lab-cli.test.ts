import { afterEach, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/main.js";
import { DEFAULT_IMPLS, DEFAULT_SCENARIOS, resolveSelection } from "../../src/cli/commands/lab.js";
import { preflight } from "../../src/lab/preflight.js";
import type { Impl } from "../../src/lab/impls/types.js";

async function runCli(args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = "";
  const spy = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    return { code: await main(args), stderr };
  } finally {
    spy.mockRestore();
  }
}

afterEach(() => {
  process.exitCode = undefined;
});

describe("holdfast lab: usage errors exit 2 before anything is made", () => {
  it("GIVEN an unknown scenario THEN it names it and lists the valid ones", async () => {
    const { code, stderr } = await runCli(["lab", "--scenario", "silent-servr"]);
    expect(code).toBe(2);
    expect(stderr).toBe(
      'holdfast: unknown scenario "silent-servr": --scenario\n' +
        "  valid scenarios: silent-server, address-flush, link-recreate, reboot-silent, ipam-lag, agent-kill, parent-flap, ipam-change, pool-reuse, conflict\n",
    );
  });

  it("GIVEN an unknown implementation THEN it names it and lists the valid ones", async () => {
    const { code, stderr } = await runCli(["lab", "--impl", "systemd"]);
    expect(code).toBe(2);
    expect(stderr).toContain('unknown implementation "systemd": --impl');
    expect(stderr).toContain("valid implementations: dhclient, seed-loop, dhcpcd, networkd, holdfast");
  });

  it("GIVEN a bad lease THEN it says what is valid", async () => {
    const { code, stderr } = await runCli(["lab", "--lease", "0"]);
    expect(code).toBe(2);
    expect(stderr).toContain('expected an integer 2-3600, got "0": --lease');
  });

  it("GIVEN no arguments THEN the default set is 5 scenarios × 4 implementations; --all is everything", () => {
    expect(resolveSelection({ scenario: [], impl: [] })).toEqual({
      scenarios: DEFAULT_SCENARIOS,
      impls: DEFAULT_IMPLS,
    });
    expect(DEFAULT_SCENARIOS).toEqual([
      "silent-server",
      "address-flush",
      "reboot-silent",
      "ipam-change",
      "pool-reuse",
    ]);
    expect(resolveSelection({ scenario: [], impl: [], all: true }).scenarios).toHaveLength(10);
    expect(resolveSelection({ scenario: [], impl: [], all: true }).impls).toHaveLength(5);
  });
});

describe("preflight", () => {
  const needsMissing: Impl = {
    name: "dhcpcd",
    summary: "",
    requires: [{ command: "hf-no-such-program", pkg: "hf-no-such-package" }],
    prepare: () => Promise.reject(new Error("not reached")),
  };

  it("GIVEN not root THEN it says to run as root, exit 2", () => {
    expect(() => preflight([], false)).toThrow(expect.objectContaining({ exitCode: 2 }));
    expect(() => preflight([], false)).toThrow(
      "the lab needs root (network namespaces, raw DHCP sockets): holdfast lab",
    );
  });

  it("GIVEN a missing program THEN it names the package to install", () => {
    try {
      preflight([needsMissing], true);
      expect.fail("preflight passed");
    } catch (error) {
      expect((error as { describe(): string }).describe()).toBe(
        [
          "programs the lab needs are missing: holdfast lab",
          "  hf-no-such-program (Debian package hf-no-such-package)",
          "  install them: apt-get install -y hf-no-such-package",
          "  or leave the implementation that needs them out with --impl",
        ].join("\n"),
      );
    }
  });
});
