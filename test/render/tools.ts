import { spawnSync } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface ToolResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function tool(file: string, args: readonly string[], input?: string): ToolResult {
  const r = spawnSync(file, args, { encoding: "utf8", input, maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function withTempDir<T>(prefix: string, body: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  try {
    return body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `systemd-analyze security --offline=true`: the overall exposure number of a unit file. */
export function exposure(unitText: string, unitName = "holdfast.service"): number {
  return withTempDir("hf-render-sa-", (dir) => {
    const file = join(dir, unitName);
    writeFileSync(file, unitText);
    const r = tool("systemd-analyze", ["security", "--offline=true", "--no-pager", file]);
    const match = /Overall exposure level for \S+: (\d+(?:\.\d+)?)/.exec(r.stdout);
    if (!match) throw new Error(`no exposure in systemd-analyze output:\n${r.stdout}\n${r.stderr}`);
    return Number(match[1]);
  });
}

/**
 * `systemd-analyze verify` offline: PID 1 here need not be systemd, so the unit goes into
 * a temp root holding a copy of the system's units (for sysinit.target and friends) and a
 * stub launcher at /usr/local/bin/holdfast. Warnings count as failures: verify exits 0 on
 * an unknown key.
 */
export function verifyUnit(unitText: string): ToolResult {
  return withTempDir("hf-render-verify-", (root) => {
    mkdirSync(join(root, "etc/systemd/system"), { recursive: true });
    mkdirSync(join(root, "usr/local/bin"), { recursive: true });
    mkdirSync(join(root, "usr/lib/systemd"), { recursive: true });
    cpSync("/lib/systemd/system", join(root, "usr/lib/systemd/system"), {
      recursive: true,
      dereference: false,
    });
    writeFileSync(join(root, "etc/systemd/system/holdfast.service"), unitText);
    writeFileSync(join(root, "usr/local/bin/holdfast"), "#!/bin/sh\nexit 0\n");
    chmodSync(join(root, "usr/local/bin/holdfast"), 0o755);
    return tool("systemd-analyze", [
      "verify",
      `--root=${root}`,
      "--man=no",
      "/etc/systemd/system/holdfast.service",
    ]);
  });
}

export function shellcheck(text: string, shell: "bash" | "sh"): ToolResult {
  return tool("shellcheck", ["-s", shell, "-"], text);
}

export function bashSyntax(text: string): ToolResult {
  return withTempDir("hf-render-bash-", (dir) => {
    writeFileSync(join(dir, "s.sh"), text);
    return tool("bash", ["-n", join(dir, "s.sh")]);
  });
}

export function cloudInitSchema(text: string): ToolResult {
  return withTempDir("hf-render-ci-", (dir) => {
    writeFileSync(join(dir, "user-data"), text);
    return tool("cloud-init", ["schema", "--config-file", join(dir, "user-data")]);
  });
}
