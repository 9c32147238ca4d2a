import { describe, expect, it } from "vitest";
import { run } from "../../src/util/exec.js";

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
