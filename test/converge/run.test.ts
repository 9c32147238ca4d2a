import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import type { ConvergeReport } from "../../src/converge/report.js";
import { desiredState, type Desired } from "../../src/converge/desired.js";
import type { Inventory } from "../../src/converge/inventory.js";
import { converge, exitCodeOf, runConvergeCli } from "../../src/converge/run.js";
import type { RunResult, Runner } from "../../src/util/exec.js";
import { FAKE_BUNDLE, STATIC_ADDR, probeOutput, specDocument, specFor } from "./fixtures.js";
import { scratchDir } from "../helpers/scratch.js";

/** A fleet behind a fake `ssh`: each host answers the probe from its state; the install script installs. */
class FakeFleet {
  readonly scripts: string[] = [];
  readonly installed = new Map<string, Desired>();
  readonly unreachable = new Set<string>();
  failApply: string | undefined;
  inFlight = 0;
  maxInFlight = 0;

  constructor(readonly desired: Map<string, Desired>) {}

  readonly runner: Runner = async (file, args, options) => {
    const address = args.at(-2)!;
    const name = address.replace(/^host-/, "");
    const input = options?.input ?? "";
    const reply = (code: number, stdout = "", stderr = ""): RunResult => ({
      command: `${file} ${args.join(" ")}`,
      code,
      signal: null,
      stdout,
      stderr,
      timedOut: false,
      durationMs: 1,
    });
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await sleep(5);
      if (this.unreachable.has(name))
        return reply(255, "", `ssh: connect to host ${address} port 22: No route to host\r\n`);
      if (input.startsWith("#!/bin/bash")) {
        this.scripts.push(name);
        if (this.failApply === name)
          return reply(
            1,
            `holdfast: ${name}: not held after 120s: pn0 discovering (holdfast 0.1.0, 5 changes)\n`,
          );
        this.installed.set(name, this.desired.get(name)!);
        return reply(
          0,
          `holdfast: ${name}: held pn0 172.16.0.2/22 (holdfast 0.1.0, 2 changes)\n`,
          `holdfast: ${name}: changed: /usr/local/bin/holdfast\nholdfast: ${name}: changed: pn0: adopted 172.16.0.2/22 (cached; it no longer expires)\n`,
        );
      }
      const installed = this.installed.get(name);
      return reply(
        0,
        probeOutput(
          installed ? { installed, addr: STATIC_ADDR, held: "172.16.0.2/22" } : { addr: STATIC_ADDR },
        ),
      );
    } finally {
      this.inFlight--;
    }
  };
}

function fleet(names: string[]): { inventory: Inventory; fake: FakeFleet } {
  const hosts = names.map((name) => ({
    name,
    address: `host-${name}`,
    user: "ubuntu",
    port: undefined,
    specFile: "/x/spec.yaml",
    spec: specFor(name),
  }));
  const desired = new Map(hosts.map((h) => [h.name, desiredState(h.spec, FAKE_BUNDLE)]));
  return { inventory: { file: "/x/inventory.yaml", hosts }, fake: new FakeFleet(desired) };
}

const run = (inventory: Inventory, fake: FakeFleet, extra: { dryRun?: boolean; concurrency?: number } = {}) =>
  converge({ inventory, bundle: FAKE_BUNDLE.content, ssh: { runner: fake.runner }, ...extra });

describe("converge run (fake ssh)", () => {
  it("converges, leaves and fails hosts independently; a failure means exit 1", async () => {
    const { inventory, fake } = fleet(["a", "b", "c"]);
    fake.installed.set("b", fake.desired.get("b")!);
    fake.unreachable.add("c");
    const report = await run(inventory, fake);
    expect(
      report.hosts.map((h) => [h.name, h.outcome, h.plan?.kind, h.failedAt, h.error]),
      "a fresh host converged, a converged one unchanged, an unreachable one failed; the others proceed",
    ).toEqual([
      ["a", "converged", "install", undefined, undefined],
      ["b", "unchanged", "unchanged", undefined, undefined],
      [
        "c",
        "failed",
        undefined,
        "probe",
        "unreachable: ssh: connect to host host-c port 22: No route to host",
      ],
    ]);
    expect(report.hosts[0]!.changes).toEqual([
      "/usr/local/bin/holdfast",
      "pn0: adopted 172.16.0.2/22 (cached; it no longer expires)",
    ]);
    expect(report.hosts[0]!.held).toEqual([{ interface: "pn0", cidr: "172.16.0.2/22" }]);
    expect(fake.scripts).toEqual(["a"]);
    expect(report.summary).toEqual({ total: 3, converged: 1, unchanged: 1, planned: 0, failed: 1 });
    expect(exitCodeOf(report)).toBe(1);
  });

  it("GIVEN --dry-run THEN every host is probed and planned and no script is ever sent; exit 0", async () => {
    const { inventory, fake } = fleet(["a", "b"]);
    const report = await run(inventory, fake, { dryRun: true });
    expect(report.hosts.map((h) => [h.outcome, h.plan?.kind])).toEqual([
      ["planned", "install"],
      ["planned", "install"],
    ]);
    expect(fake.scripts).toEqual([]);
    expect(exitCodeOf(report)).toBe(0);
  });

  it("GIVEN the script fails on a host THEN that host fails at apply with the script's own result line", async () => {
    const { inventory, fake } = fleet(["a", "b"]);
    fake.failApply = "a";
    const report = await run(inventory, fake);
    expect(report.hosts[0]).toMatchObject({
      outcome: "failed",
      failedAt: "apply",
      error: "holdfast: a: not held after 120s: pn0 discovering (holdfast 0.1.0, 5 changes)",
    });
    expect(report.hosts[1]!.outcome).toBe("converged");
  });

  it("keeps to --concurrency and reports in inventory order", async () => {
    const { inventory, fake } = fleet(["a", "b", "c", "d", "e", "f"]);
    const report = await run(inventory, fake, { concurrency: 2 });
    expect(fake.maxInFlight, "ssh sessions at once with --concurrency 2 and 6 hosts").toBe(2);
    expect(
      report.hosts.map((h) => h.name),
      "inventory order",
    ).toEqual(["a", "b", "c", "d", "e", "f"]);
    expect(report.summary.converged).toBe(6);
  });
});

describe("runConvergeCli output (fake ssh)", () => {
  const dir = scratchDir("hf-converge-run-");
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "spec.yaml"), stringify(specDocument("x")));
  writeFileSync(
    join(dir, "inventory.yaml"),
    stringify({
      version: 1,
      defaults: { spec: "spec.yaml" },
      hosts: [
        { name: "a", address: "host-a" },
        { name: "b", address: "host-b" },
      ],
    }),
  );

  const cliRun = async (fake: FakeFleet, extra: { dryRun?: boolean; json?: boolean }) => {
    let stdout = "";
    let stderr = "";
    const code = await runConvergeCli({
      inventoryFile: join(dir, "inventory.yaml"),
      dryRun: extra.dryRun ?? false,
      concurrency: 10,
      json: extra.json ?? false,
      acceptNewHostKeys: false,
      sshConfig: undefined,
      connectTimeoutSec: undefined,
      runner: fake.runner,
      bundle: FAKE_BUNDLE.content,
      stdout: { write: (t: string) => (stdout += t) },
      stderr: { write: (t: string) => (stderr += t), isTTY: false },
    });
    return { code, stdout, stderr };
  };

  it("GIVEN --dry-run THEN the plans and a count line on stdout, one line per host on stderr, exit 0", async () => {
    const { fake } = fleet(["a", "b"]);
    const r = await cliRun(fake, { dryRun: true });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^a \(host-a\): install\n {2}- holdfast not installed: install \S+\n {2}- pn0: 172\.16\.0\.2\/22 \(static, no client\); adopt it\nb \(host-b\): install\n(.*\n){2}\n2 hosts: 2 planned in \d+\.\ds\n$/,
    );
    expect(r.stderr.split("\n").filter(Boolean).sort()).toEqual([
      expect.stringMatching(/^a {2}planned \(install, \d+\.\ds\): /),
      expect.stringMatching(/^b {2}planned \(install, \d+\.\ds\): /),
    ]);
    expect(fake.scripts).toEqual([]);
  });

  it("GIVEN --json and an unreachable host THEN one JSON document, nothing on stderr, exit 1", async () => {
    const { fake } = fleet(["a", "b"]);
    fake.unreachable.add("b");
    const r = await cliRun(fake, { json: true });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("");
    const report = JSON.parse(r.stdout) as ConvergeReport;
    expect(report.summary).toEqual({ total: 2, converged: 1, unchanged: 0, planned: 0, failed: 1 });
    expect(report.hosts[1]).toMatchObject({ name: "b", outcome: "failed", failedAt: "probe" });
  });
});
