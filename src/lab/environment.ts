import { cpus, release } from "node:os";
import { run } from "../util/exec.js";
import { VERSION } from "../version.js";

/** What the numbers were measured on: part of the JSON report (design §5). */
export interface Environment {
  readonly holdfast: string;
  readonly node: string;
  readonly kernel: string;
  readonly cpus: number;
  readonly leaseSeconds: number;
  readonly startedAt: string;
  readonly durationMs: number;
  /** first line of each program's version output; absent when not installed */
  readonly versions: Readonly<Record<string, string>>;
}

const VERSION_COMMANDS: Record<string, readonly string[]> = {
  "kea-dhcp4": ["-V"],
  dhclient: ["--version"],
  dhcpcd: ["--version"],
  systemd: [],
};

async function firstLine(file: string, args: readonly string[]): Promise<string | undefined> {
  try {
    const r = await run(file, args, { timeoutMs: 5000 });
    return (r.stdout.trim() || r.stderr.trim()).split("\n")[0]?.trim() || undefined;
  } catch {
    return undefined;
  }
}

export async function collectEnvironment(leaseSeconds: number, startedAt: number): Promise<Environment> {
  const versions: Record<string, string> = {};
  for (const [name, args] of Object.entries(VERSION_COMMANDS)) {
    const line =
      name === "systemd" ? await firstLine("systemctl", ["--version"]) : await firstLine(name, args);
    if (line) versions[name] = line;
  }
  return {
    holdfast: VERSION,
    node: process.version,
    kernel: release(),
    cpus: cpus().length,
    leaseSeconds,
    startedAt: new Date(startedAt).toISOString(),
    durationMs: Date.now() - startedAt,
    versions,
  };
}
