/**
 * A failing host's report keeps the cause: the ssh command that failed, how it ended, and
 * the remote's last stderr lines, in the table and in --json. `ssh` here is a fake
 * executable on PATH, run through the real process runner.
 */
import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import type { ConvergeReport } from "../../src/converge/report.js";
import { runConvergeCli } from "../../src/converge/run.js";
import { run, type Runner } from "../../src/util/exec.js";
import { FAKE_BUNDLE, specDocument } from "./fixtures.js";
import { scratchDir } from "../helpers/scratch.js";

const dir = scratchDir("hf-converge-cause-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The fake ssh: host-a's remote `bash -s` fails with exit 3 after printing seven lines on
// stderr; host-b cannot be reached (ssh's own 255).
const bin = join(dir, "bin");
mkdirSync(bin);
writeFileSync(
  join(bin, "ssh"),
  `#!/bin/sh
cat >/dev/null
for last; do :; done
for host; do case "$host" in host-*) target=$host;; esac; done
if [ "$target" = host-b ]; then
  echo "ssh: connect to host host-b port 22: Connection refused" >&2
  exit 255
fi
for i in 1 2 3 4 5 6; do echo "remote noise $i" >&2; done
echo "bash: line 7: /usr/bin/probe-helper: Permission denied" >&2
exit 3
`,
);
chmodSync(join(bin, "ssh"), 0o755);
const fakeSsh: Runner = (file, args, options) =>
  run(file, args, { ...options, env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ""}` } });
const missingSsh: Runner = (_file, args, options) => run(join(dir, "no-such-ssh"), args, options);

writeFileSync(join(dir, "spec.yaml"), stringify(specDocument("x")));
writeFileSync(
  join(dir, "inventory.yaml"),
  stringify({
    version: 1,
    defaults: { spec: "spec.yaml" },
    hosts: [
      { name: "a", address: "host-a" },
      { name: "b", address: "host-b" },
    ],
  }),
);

async function converge(runner: Runner, json: boolean) {
  let stdout = "";
  const code = await runConvergeCli({
    inventoryFile: join(dir, "inventory.yaml"),
    dryRun: false,
    concurrency: 2,
    json,
    acceptNewHostKeys: false,
    sshConfig: undefined,
    connectTimeoutSec: undefined,
    runner,
    bundle: FAKE_BUNDLE.content,
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: () => true, isTTY: false },
  });
  return { code, stdout };
}

const TAIL = [
  "remote noise 3",
  "remote noise 4",
  "remote noise 5",
  "remote noise 6",
  "bash: line 7: /usr/bin/probe-helper: Permission denied",
];

describe("a failing host's cause", () => {
  it("shows the failed ssh command and the remote's last lines in --json", async () => {
    const r = await converge(fakeSsh, true);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as ConvergeReport;
    const [a, b] = report.hosts;
    expect(a, JSON.stringify(a, null, 2)).toMatchObject({
      outcome: "failed",
      failedAt: "probe",
      error: "probe failed: bash: line 7: /usr/bin/probe-helper: Permission denied",
      cause: {
        message: expect.stringMatching(
          /^Command failed with exit code 3: ssh -o BatchMode=yes .* -- host-a bash -s$/,
        ),
        command: expect.stringMatching(/^ssh .* -- host-a bash -s$/),
        exitCode: 3,
        timedOut: false,
        stderrTail: TAIL,
      },
    });
    expect(b, JSON.stringify(b, null, 2)).toMatchObject({
      error: "unreachable: ssh: connect to host host-b port 22: Connection refused",
      cause: {
        message: expect.stringMatching(/^Command failed with exit code 255: ssh /),
        exitCode: 255,
        stderrTail: ["ssh: connect to host host-b port 22: Connection refused"],
      },
    });
  });

  it("shows the cause and the last lines under the table", async () => {
    const r = await converge(fakeSsh, false);
    expect(r.code).toBe(1);
    const lines = r.stdout.split("\n");
    const at = lines.findIndex((l) => l.startsWith("a: cause: "));
    expect(at, r.stdout).toBeGreaterThan(0);
    expect(lines[at], r.stdout).toMatch(
      /^a: cause: Command failed with exit code 3: ssh .* -- host-a bash -s$/,
    );
    expect(lines.slice(at + 1, at + 6), r.stdout).toEqual(TAIL.map((l) => `  | ${l}`));
    expect(lines[at + 6], r.stdout).toMatch(/^b: cause: Command failed with exit code 255: ssh /);
    expect(lines[at + 7], r.stdout).toBe("  | ssh: connect to host host-b port 22: Connection refused");
    expect(r.stdout, "the summary stays last").toMatch(/\n\n2 hosts: 2 failed in \d+\.\ds\n$/);
  });

  it("shows the spawn error when ssh cannot be started", async () => {
    const r = await converge(missingSsh, true);
    const report = JSON.parse(r.stdout) as ConvergeReport;
    expect(report.hosts[0], r.stdout).toMatchObject({
      failedAt: "probe",
      error: expect.stringMatching(/^could not run ssh: spawn \S+no-such-ssh ENOENT$/),
      cause: { message: expect.stringMatching(/^spawn \S+no-such-ssh ENOENT$/), code: "ENOENT" },
    });
  });
});
