import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createStatusFileObserver } from "../../../src/observe/status-file.js";
import { attachment, deadPid } from "../../observe/fixtures.js";
import { runCli } from "./observe-cli.js";
import { scratchDir } from "../../helpers/scratch.js";

// The commands also ask the kernel what is on the link (observe/kernel-view.ts); these tests
// run outside any namespace, so the kernel's answer is given: pn0 carries the fixture address.
vi.mock("../../../src/observe/kernel-view.js", () => ({
  addressesOnLinks: () => Promise.resolve(new Map([["pn0", ["198.18.0.10/22"]]])),
}));

describe("holdfast status", () => {
  let dir: string;
  let configPath: string;
  beforeEach(() => {
    dir = scratchDir("hf-status-cli-");
    configPath = join(dir, "holdfast.yaml");
    writeFileSync(configPath, `version: 1\nrunDir: ${dir}/run\nattachments:\n  - interface: pn0\n`);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const report = (pid: number): void => {
    const a = attachment({ reasserts: 2 });
    createStatusFileObserver({ runDir: join(dir, "run"), reconcileIntervalMs: 1000, pid }).statusChanged?.(
      a,
      [a],
    );
  };

  it("GIVEN a live agent THEN a table with the held address, exit 0", async () => {
    report(process.pid);
    const result = await runCli(["status", "--config", configPath]);
    expect(result.code).toBe(0);
    const lines = result.stdout.split("\n");
    expect(lines[0]).toMatch(
      new RegExp(`^agent running: pid ${process.pid}, version 0\\.0\\.0-dev, up \\d+ s`),
    );
    expect(lines[2]).toMatch(
      /^INTERFACE +STATE +ADDRESS +HELD-SINCE +LAST-RECONCILE +REASSERTS +CONFIRMED +CONFLICT +ERROR$/,
    );
    expect(lines[3]).toMatch(
      /^pn0 +held +198\.18\.0\.10\/22 \(static\) +2026-06-04 10:00:00Z +.* ago +2 +- +- +-$/,
    );
  });

  it("GIVEN --json THEN the status document plus whether the agent runs", async () => {
    report(process.pid);
    const result = await runCli(["status", "--config", configPath, "--json"]);
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout) as { agent: Record<string, unknown>; attachments: unknown[] };
    expect(json.agent).toMatchObject({ pid: process.pid, running: true, notRunningReason: null });
    expect(json.attachments).toEqual([{ ...attachment({ reasserts: 2 }), onLink: true }]);
  });

  it("GIVEN a dead agent THEN the table is shown under a loud headline and exit 1", async () => {
    const pid = await deadPid();
    report(pid);
    const result = await runCli(["status", "--config", configPath]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(new RegExp(`^AGENT NOT RUNNING: pid ${pid} is gone;`));
  });

  it("GIVEN no status file THEN exit 1 naming the file", async () => {
    const result = await runCli(["status", "--config", configPath]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `holdfast: no status file: ${dir}/run/status.json\n  the agent has not run since boot; see \`systemctl status holdfast\`\n`,
    );
  });

  it("GIVEN an invalid config THEN exit 2 naming the field", async () => {
    writeFileSync(configPath, "version: 2\nattachments: []\n");
    const result = await runCli(["status", "--config", configPath]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("version: expected 1, got 2");
  });
});
