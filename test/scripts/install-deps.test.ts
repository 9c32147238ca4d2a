import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { run } from "../../src/util/exec.js";

/**
 * scripts/install-deps.sh against fake apt-get / dpkg-query / systemctl / npm / id on PATH and
 * a scratch root, so the test never installs anything; the script's own shellcheck is real.
 */
const FAKES: Record<string, string> = {
  "apt-get": `#!/bin/sh
echo "apt-get $*" >> "$FAKE/log"
if [ "$1" = install ]; then
  "$HOLDFAST_INSTALL_ROOT/usr/sbin/policy-rc.d" start; echo "policy-rc.d exit $?" >> "$FAKE/log"
  for p in "$@"; do case "$p" in -*|install) ;; *) echo "$p" >> "$FAKE/installed" ;; esac; done
fi
`,
  "dpkg-query": `#!/bin/sh
for last; do :; done
grep -qx "$last" "$FAKE/installed" 2>/dev/null && printf 'ii ' && exit 0
exit 1
`,
  systemctl: `#!/bin/sh
echo "systemctl $*" >> "$FAKE/log"
`,
  npm: `#!/bin/sh
echo "npm $*" >> "$FAKE/log"
`,
  id: `#!/bin/sh
echo 0
`,
};

let scratch: string | undefined;
afterEach(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

async function setup(
  installed: readonly string[],
): Promise<{ script: string; env: NodeJS.ProcessEnv; root: string; fake: string }> {
  scratch = await mkdtemp(join(tmpdir(), "hf-install-deps-"));
  const fake = join(scratch, "fake");
  const root = join(scratch, "root");
  const repo = join(scratch, "repo");
  await mkdir(join(fake, "bin"), { recursive: true });
  await mkdir(join(root, "usr/sbin"), { recursive: true });
  await mkdir(join(repo, "scripts"), { recursive: true });
  await mkdir(join(repo, "tools/node18"), { recursive: true });
  for (const [name, text] of Object.entries(FAKES)) {
    await writeFile(join(fake, "bin", name), text);
    await chmod(join(fake, "bin", name), 0o755);
  }
  await writeFile(join(fake, "installed"), installed.map((p) => `${p}\n`).join(""));
  await writeFile(join(repo, "package-lock.json"), "{}\n");
  const script = join(repo, "scripts/install-deps.sh");
  await copyFile("scripts/install-deps.sh", script);
  const env = { PATH: `${join(fake, "bin")}:/usr/bin:/bin`, FAKE: fake, HOLDFAST_INSTALL_ROOT: root };
  return { script, env, root, fake };
}

/** The script's own PACKAGES list, so a package added there needs no edit here. */
const ALL = (/^PACKAGES=\(\n([\s\S]*?)^\)/m.exec(readFileSync("scripts/install-deps.sh", "utf8"))?.[1] ?? "")
  .split("\n")
  .map((line) => line.replace(/#.*/, "").trim())
  .filter(Boolean);

describe("scripts/install-deps.sh", () => {
  it("GIVEN the script THEN shellcheck finds nothing", async () => {
    const result = await run("shellcheck", ["scripts/install-deps.sh"], { timeoutMs: 20_000 });
    expect(result.stdout).toBe("");
    expect(result.code).toBe(0);
  });

  it("installs only missing packages with starts forbidden, then restores the old policy", async () => {
    const { script, env, root, fake } = await setup(
      ALL.filter((p) => !["kea-dhcp4-server", "cloud-init"].includes(p)),
    );
    await writeFile(join(root, "usr/sbin/policy-rc.d"), "#!/bin/sh\nexit 101 # docker\n", { mode: 0o755 });
    const result = await run("bash", [script], { env, timeoutMs: 20_000 });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const log = await readFile(join(fake, "log"), "utf8");
    expect(log).toContain("apt-get update\n");
    expect(log, "apt installs only the missing packages").toContain(
      "apt-get install -y --no-install-recommends kea-dhcp4-server cloud-init\n",
    );
    expect(log, "service starts forbidden during the install").toContain("policy-rc.d exit 101\n");
    expect(log, "their services stay off").toContain("systemctl disable --quiet kea-dhcp4-server.service\n");
    expect(log).not.toContain("ssh.service"); // openssh-server was there before: not ours to change
    expect(
      await readFile(join(root, "usr/sbin/policy-rc.d"), "utf8"),
      "Docker's policy comes back",
    ).toContain("# docker");
    expect(existsSync(join(root, "usr/sbin/policy-rc.d.holdfast-saved"))).toBe(false);
    expect(existsSync(join(root, "etc/cloud/cloud-init.disabled"))).toBe(true);
    expect(log).toMatch(/npm ci --prefix \S+\/repo --no-audit --no-fund\n/);
    expect(log).toMatch(/npm install --prefix \S+\/repo\/tools\/node18/); // no lock file there
  });

  it("GIVEN everything installed WHEN run twice THEN no apt at all and npm ci only the first time", async () => {
    const { script, env, root, fake } = await setup(ALL);
    await writeFile(join(root, "../repo/tools/node18/package-lock.json"), "{}\n");
    await mkdir(join(root, "../repo/node_modules"), { recursive: true });
    await mkdir(join(root, "../repo/tools/node18/node_modules"), { recursive: true });
    expect((await run("bash", [script], { env, timeoutMs: 20_000 })).code).toBe(0);
    const second = await run("bash", [script], { env, timeoutMs: 20_000 });
    expect(second.code).toBe(0);
    expect(ALL.length, "the list parsed").toBeGreaterThan(20);
    expect(second.stdout).toContain(`all ${ALL.length} Debian packages already installed`);
    expect(second.stdout).toContain("node_modules up to date");
    const log = await readFile(join(fake, "log"), "utf8");
    expect(log).not.toContain("apt-get");
    expect(log.match(/npm ci/g)).toHaveLength(2); // repo + tools/node18, first run only
    expect(existsSync(join(root, "usr/sbin/policy-rc.d"))).toBe(false); // none before, none after
  });

  it("GIVEN apt fails WHEN run THEN our policy-rc.d is removed anyway", async () => {
    const { script, env, root, fake } = await setup([]);
    await writeFile(join(fake, "bin/apt-get"), "#!/bin/sh\nexit 100\n");
    const result = await run("bash", [script, "--apt-only"], { env, timeoutMs: 20_000 });
    expect(result.code).toBe(100);
    expect(existsSync(join(root, "usr/sbin/policy-rc.d"))).toBe(false);
  });

  it("GIVEN an unknown flag THEN exit 2 naming the valid ones", async () => {
    const { script, env } = await setup(ALL);
    const result = await run("bash", [script, "--bogus"], { env, timeoutMs: 20_000 });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      "install-deps.sh: unknown argument: --bogus (valid: --apt-only, --force-npm)\n",
    );
  });
});
