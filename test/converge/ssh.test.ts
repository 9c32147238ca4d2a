import { describe, expect, it } from "vitest";
import { runRemoteScript, sshArgs } from "../../src/converge/ssh.js";
import { run, type RunOptions, type RunResult, type Runner } from "../../src/util/exec.js";

const target = { name: "cache-a", address: "203.0.113.10", user: "ubuntu", port: 2222 };

function recordingRunner(result: Partial<RunResult> = {}): {
  runner: Runner;
  calls: { file: string; args: readonly string[]; options?: RunOptions }[];
} {
  const calls: { file: string; args: readonly string[]; options?: RunOptions }[] = [];
  const runner: Runner = async (file, args, options) => {
    calls.push({ file, args, ...(options ? { options } : {}) });
    return {
      command: file,
      code: 0,
      signal: null,
      stdout: "",
      stderr: "",
      timedOut: false,
      durationMs: 1,
      ...result,
    };
  };
  return { runner, calls };
}

describe("ssh", () => {
  it("GIVEN defaults THEN the system ssh runs in batch mode with strict host keys, a connect timeout, port and user", () => {
    expect(sshArgs(target, {}, "bash -s")).toEqual([
      "-o", "BatchMode=yes",
      "-o", "ConnectTimeout=10",
      "-o", "StrictHostKeyChecking=yes",
      "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3",
      "-o", "LogLevel=ERROR",
      "-T",
      "-p", "2222",
      "-l", "ubuntu",
      "--", "203.0.113.10", "bash -s",
    ]); // prettier-ignore
  });

  it("GIVEN --accept-new-host-keys, a config file and a timeout THEN they reach ssh; no user/port leaves them to ~/.ssh/config", () => {
    const args = sshArgs(
      { name: "b", address: "cache-b", user: undefined, port: undefined },
      { acceptNewHostKeys: true, configFile: "/tmp/ssh_config", connectTimeoutSec: 3 },
      "bash -s",
    );
    expect(args.slice(0, 2)).toEqual(["-F", "/tmp/ssh_config"]);
    expect(args).toContain("StrictHostKeyChecking=accept-new");
    expect(args).toContain("ConnectTimeout=3");
    expect(args).not.toContain("-p");
    expect(args).not.toContain("-l");
    expect(args.slice(-3)).toEqual(["--", "cache-b", "bash -s"]);
  });

  it("GIVEN a script THEN it goes on stdin of `bash -s`, never into argv", async () => {
    const { runner, calls } = recordingRunner({ stdout: "ok\n" });
    const script = "echo secret-looking-content\n";
    const result = await runRemoteScript(target, script, { runner, timeoutMs: 5000 });
    expect(result).toMatchObject({ code: 0, stdout: "ok\n", sshFailed: false });
    expect(calls).toHaveLength(1);
    expect(calls[0]!.file).toBe("ssh");
    expect(calls[0]!.args.join(" ")).not.toContain("secret-looking-content");
    expect(calls[0]!.options).toEqual({ input: script, timeoutMs: 5000 });
  });

  it("GIVEN ssh exits 255 THEN it is an ssh failure, not the remote command's", async () => {
    const { runner } = recordingRunner({
      code: 255,
      stderr: "ssh: connect to host 203.0.113.10 port 2222: No route to host\r\n",
    });
    const result = await runRemoteScript(target, "true\n", { runner, timeoutMs: 5000 });
    expect(result.sshFailed).toBe(true);
  });
});

describe("a script for a host that hangs up at once", () => {
  it("GIVEN the remote end exits without reading its stdin THEN the run reports its exit status (no EPIPE crash)", async () => {
    const big = "x".repeat(4 * 1024 * 1024);
    const result = await run("sh", ["-c", "exit 255"], { input: big, timeoutMs: 10_000 });
    expect(result.code).toBe(255);
  });
});
