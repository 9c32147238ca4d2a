import { execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { run, signalGroup, signalPid } from "../../src/util/exec.js";
import { isRoot, warnSkipped } from "../helpers/root.js";

const FIXTURE = new URL("fixtures/run-as-group-user.ts", import.meta.url).pathname;
const TSX = new URL("../../node_modules/.bin/tsx", import.meta.url).pathname;

if (!isRoot) warnSkipped("test/util/exec.test.ts (a run without CAP_KILL: needs root to drop it)");

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

describe("run", () => {
  it("ends the whole process group at the deadline", async () => {
    const result = await run("sh", ["-c", "sleep 30 & sleep 30; echo never"], {
      timeoutMs: 300,
      graceMs: 100,
    });
    expect(result.timedOut).toBe(true);
    expect(result.stdout).toBe("");
    expect(result.durationMs).toBeLessThan(5000);
  });

  it("returns even when a descendant escaped the group and holds the output pipes", async () => {
    // setsid puts the sleeper in a new session: killing our group cannot reach it.
    const result = await run("sh", ["-c", "setsid sleep 30 & echo $!"], { timeoutMs: 2000 });
    const escaped = Number(result.stdout.trim());
    try {
      expect(escaped).toBeGreaterThan(0);
      expect(result.durationMs).toBeLessThan(4000);
    } finally {
      process.kill(escaped, "SIGKILL");
    }
  });

  it("captures output and the exit code", async () => {
    const result = await run("sh", ["-c", "echo out; echo err >&2; exit 3"]);
    expect(result).toMatchObject({ code: 3, stdout: "out\n", stderr: "err\n", timedOut: false });
  });
});

describe("signalGroup / signalPid", () => {
  it("GIVEN a detached leader with a child WHEN its group is signalled THEN both end; a gone group or pid reports false", async () => {
    const leader = spawn("sh", ["-c", "sleep 30 & wait"], { detached: true, stdio: "ignore" });
    const exited = new Promise((resolve) => leader.once("exit", (_code, signal) => resolve(signal)));
    const pid = leader.pid!;
    expect(signalGroup(pid, "SIGTERM")).toBe(true);
    expect(await exited).toBe("SIGTERM");
    // the sleeper went with the group: nothing is left to signal
    const groupExists = (): boolean => {
      try {
        process.kill(-pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 250 && groupExists(); i++) await sleep(20); // up to 5 s on a busy machine
    expect(signalGroup(pid, "SIGKILL")).toBe(false);
    expect(signalPid(pid, "SIGKILL")).toBe(false);
  });
});

describe.skipIf(!isRoot)("run without CAP_KILL (the hardened unit)", () => {
  it("GIVEN a group member that switched to another user WHEN the deadline passes THEN groupUser ends it too", () => {
    const { member, timedOut } = runWithoutCapKill("with");
    expect(timedOut).toBe(true);
    expect(member).toBeGreaterThan(0);
    expect(running(member)).toBe(false);
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
