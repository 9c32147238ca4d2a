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

describe("holdfast check", () => {
  let dir: string;
  let configPath: string;
  beforeEach(() => {
    dir = scratchDir("hf-check-");
    configPath = join(dir, "holdfast.yaml");
    writeFileSync(
      configPath,
      `version: 1\nrunDir: ${dir}/run\nattachments:\n  - interface: pn0\n    reconcileInterval: 1s\n`,
    );
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const report = (pid: number, state: "held" | "waiting-link"): void => {
    const a = attachment({ state, cidr: state === "held" ? "198.18.0.10/22" : null });
    createStatusFileObserver({ runDir: join(dir, "run"), reconcileIntervalMs: 1000, pid }).statusChanged?.(
      a,
      [a],
    );
  };

  it("GIVEN the address held by a live agent THEN exit 0", async () => {
    report(process.pid, "held");
    expect(await runCli(["check", "--config", configPath])).toEqual({
      code: 0,
      stdout: "ok: pn0 held 198.18.0.10/22\n",
      stderr: "",
    });
  });

  it("GIVEN the link gone THEN exit 1", async () => {
    report(process.pid, "waiting-link");
    expect(await runCli(["check", "--config", configPath])).toMatchObject({
      code: 1,
      stdout: "problem: pn0 waiting-link\n",
    });
  });

  it("GIVEN the agent's pid gone THEN exit 1 (not running)", async () => {
    const pid = await deadPid();
    report(pid, "held");
    expect(await runCli(["check", "--config", configPath])).toMatchObject({
      code: 1,
      stdout: `problem: agent not running (pid ${pid} is gone)\n`,
    });
  });

  it("GIVEN the agent never ran THEN exit 1", async () => {
    expect(await runCli(["check", "--config", configPath])).toMatchObject({
      code: 1,
      stdout: `problem: agent not running (no ${dir}/run/status.json)\n`,
    });
  });

  it("GIVEN an unreadable config THEN exit 2, one line on stdout, details on stderr", async () => {
    const result = await runCli(["check", "--config", join(dir, "nope.yaml")]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe(`unknown: cannot read config ${dir}/nope.yaml\n`);
    expect(result.stderr).toContain("no such file");
  });
});
