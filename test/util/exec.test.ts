import { spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { run, signalGroup, signalPid } from "../../src/util/exec.js";

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
  it("signals a whole group; a gone group or pid reports false", async () => {
    const leader = spawn("sh", ["-c", "sleep 30 & wait"], { detached: true, stdio: "ignore" });
    const exited = new Promise((resolve) => leader.once("exit", (_code, signal) => resolve(signal)));
    const pid = leader.pid!;
    expect(signalGroup(pid, "SIGTERM")).toBe(true);
    expect(await exited, "the detached leader ended").toBe("SIGTERM");
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
    expect(groupExists(), "the leader's child ended with it").toBe(false);
    expect(signalGroup(pid, "SIGKILL"), "a gone group").toBe(false);
    expect(signalPid(pid, "SIGKILL"), "a gone pid").toBe(false);
  });
});
