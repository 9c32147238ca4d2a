import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { signalPid } from "../../src/util/exec.js";
import { skipUnlessRoot } from "../helpers/root.js";

const FIXTURE = new URL("fixtures/run-as-group-user.ts", import.meta.url).pathname;
const TSX = new URL("../../node_modules/.bin/tsx", import.meta.url).pathname;

const skip = skipUnlessRoot(import.meta.url, "dropping CAP_KILL and switching users");

/** Runs the fixture with CAP_KILL out of its bounding set, as the hardened unit runs the agent. */
function runWithoutCapKill(mode: "with" | "without"): { member: number; timedOut: boolean } {
  const out = execFileSync(
    "setpriv",
    ["--bounding-set=-kill", "--inh-caps=-kill", "--", TSX, FIXTURE, mode],
    {
      encoding: "utf8",
      timeout: 30_000,
    },
  );
  return JSON.parse(out) as { member: number; timedOut: boolean };
}

/** Alive and not a zombie. */
function running(pid: number): boolean {
  if (!existsSync(`/proc/${pid}`)) return false;
  return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
}

describe.skipIf(skip)("run without CAP_KILL (the hardened unit)", () => {
  it("ends a group member that switched users at the deadline, with groupUser", () => {
    const { member, timedOut } = runWithoutCapKill("with");
    expect(timedOut).toBe(true);
    expect(member).toBeGreaterThan(0);
    expect(running(member), "the member that switched to another user ended at the deadline").toBe(false);
  }, 40_000);

  it("without groupUser the same member outlives the run (why the option exists)", () => {
    const { member } = runWithoutCapKill("without");
    try {
      expect(member).toBeGreaterThan(0);
      expect(running(member)).toBe(true);
    } finally {
      signalPid(member, "SIGKILL");
    }
  }, 40_000);
});
