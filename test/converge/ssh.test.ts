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
  it("runs the system ssh in batch mode, strict host keys, with a connect timeout", () => {
    expect(sshArgs(target, {}, "bash -s"), "batch mode, strict host keys, timeout, port, user").toEqual([
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

  it("passes host-key, config and timeout options; leaves user and port to ~/.ssh/config", () => {
    const args = sshArgs(
      { name: "b", address: "cache-b", user: undefined, port: undefined },
      { acceptNewHostKeys: true, configFile: "/tmp/ssh_config", connectTimeoutSec: 3 },
      "bash -s",
    );
    expect(args.slice(0, 2)).toEqual(["-F", "/tmp/ssh_config"]);
    expect(args).toContain("StrictHostKeyChecking=accept-new");
    expect(args).toContain("ConnectTimeout=3");
    expect(args, "no port: ~/.ssh/config decides").not.toContain("-p");
    expect(args, "no user: ~/.ssh/config decides").not.toContain("-l");
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
  it("reports the exit status when the remote end never reads its stdin", async () => {
    const big = "x".repeat(4 * 1024 * 1024);
    const result = await run("sh", ["-c", "exit 255"], { input: big, timeoutMs: 10_000 });
    expect(result.code, "the exit status, not an EPIPE crash").toBe(255);
  });
});
