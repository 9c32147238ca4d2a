/**
 * Issue 13, the input side of rows 6, 7, 9, 10 and 11, through the CLI bundle as a user
 * runs it: bad input exits 2 at once naming the file and field, echoes no file content,
 * and never hangs on a special file.
 */
import { spawnSync } from "node:child_process";
import { execFileSync } from "node:child_process";
import { symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BUNDLE, requireBundle } from "../helpers/agent-process.js";
import { scratchDir } from "../helpers/scratch.js";

function cli(args: readonly string[], timeoutMs = 10_000) {
  requireBundle();
  const started = performance.now();
  const r = spawnSync(process.execPath, [BUNDLE, ...args], { encoding: "utf8", timeout: timeoutMs });
  return {
    code: r.status,
    signal: r.signal,
    stdout: r.stdout,
    stderr: r.stderr,
    ms: performance.now() - started,
  };
}

const dir = scratchDir("hf-input-");
function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}
// stateDir and runDir in the test's own directory: should a config ever be accepted (on
// older code), nothing touches the host's /run/holdfast or /var/lib/holdfast
const config = (fields: Record<string, unknown>) =>
  file(
    `c-${Math.random().toString(36).slice(2)}.json`,
    JSON.stringify({ version: 1, stateDir: join(dir, "state"), runDir: join(dir, "run"), ...fields }),
  );
const staticAt = (cidr: string) => ({
  attachments: [{ interface: "pn0", address: { source: "static", cidr } }],
});

describe("own input files (CLI bundle)", () => {
  // row 6
  it.each(["0.0.0.0/0", "255.255.255.255/32", "224.0.0.1/4", "127.0.0.5/8", "10.0.0.0/24", "10.0.0.255/24"])(
    "refuses static cidr %s with exit 2 naming the field",
    (cidr) => {
      const r = cli(["agent", "--config", config(staticAt(cidr))]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/attachments\[0\]\.address\.cidr: expected a unicast host address/);
    },
  );

  // row 7: a reader that opened either would block or read forever, so any bound proves it
  // did not; 30 s, not 5: a CLI start took over 5 s once on a loaded CI machine (load ~10)
  it("refuses a FIFO and a /dev/zero symlink as config at once with exit 2", () => {
    const fifo = join(dir, "fifo.yaml");
    execFileSync("mkfifo", [fifo]);
    const zero = join(dir, "zero.yaml");
    symlinkSync("/dev/zero", zero);
    for (const [path, why] of [
      [fifo, "a FIFO"],
      [zero, "a character device"],
    ] as const) {
      for (const args of [
        ["agent", "--config", path],
        ["render", "--format", "script", "--spec", path],
        ["converge", "--dry-run", "--inventory", path],
      ]) {
        const r = cli(args, 30_000);
        expect(r.code, `${args.join(" ")}: ${r.signal ?? ""} ${r.stderr}`).toBe(2);
        expect(r.stderr).toContain(why);
        expect(r.ms).toBeLessThan(30_000);
      }
    }
  }, 200_000);

  it("refuses a config over 1 MiB without reading it", () => {
    const r = cli(["agent", "--config", file("huge.yaml", `# ${"x".repeat(2 * 1024 * 1024)}\n`)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/more than the 1048576 allowed/);
  });

  // row 9
  it.each(["999.1.1.1:9464", "$(id):9464", "'$(id)':1"])(
    "refuses metrics.listen %s with exit 2",
    (listen) => {
      const r = cli(["agent", "--config", config({ metrics: { listen }, ...staticAt("198.18.0.5/22") })]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/metrics\.listen: expected "host:port"/);
    },
  );

  // row 10
  it("never echoes a shadow-format file's lines, as config, spec or inventory spec", () => {
    const shadow = file(
      "shadow",
      "root:$6$saltsalt$0123456789abcdefABCDEF:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n",
    );
    const inventory = file(
      "inv.yaml",
      `version: 1\nhosts: [{ name: a, address: 198.18.0.9, spec: ${shadow} }]\n`,
    );
    for (const args of [
      ["agent", "--config", shadow],
      ["render", "--format", "script", "--spec", shadow],
      ["converge", "--dry-run", "--inventory", inventory],
    ]) {
      const r = cli(args);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr + r.stdout, args.join(" ")).not.toMatch(/\$6\$|saltsalt|19000/);
    }
  });

  it("escapes control characters of input in error messages", () => {
    const r = cli(["agent", "--config", config({ attachments: [{ interface: "pn\u001b[2J0" }] })]);
    expect(r.code).toBe(2);
    // JSON-quoted by got() or escaped by describe(): never the raw escape character
    expect(r.stderr).not.toContain("\u001b");
    expect(r.stderr).toMatch(/\\u001b|\\x1b/);
  });

  // row 11
  it("exits 2 with clear messages for bad command-line files", () => {
    const converge = cli([
      "converge",
      "--dry-run",
      "--inventory",
      file("i.yaml", "version: 1\nhosts: [{name: a, address: 198.18.0.9, spec: ./s.yaml}]\n"),
      "--ssh-config",
      "/nonexistent",
    ]);
    expect(converge.code, converge.stderr).toBe(2);
    expect(converge.stderr).toMatch(/cannot read --ssh-config: \/nonexistent/);

    const out = file("out-is-a-file", "x");
    const spec = file(
      "spec.yaml",
      "version: 1\nnode: { name: n1 }\nagent: { config: { version: 1, attachments: [{ interface: pn0 }] } }\n",
    );
    const render = cli(["render", "--format", "units", "--spec", spec, "--out", out]);
    expect(render.code, render.stderr).toBe(2);
    expect(render.stderr).toMatch(
      /invalid --out: .*out-is-a-file\n {2}expected a directory, got an existing file/,
    );

    const empty = cli(["agent", "--config", ""]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('cannot read file: ""');
  });

  it.each([
    ["1e400", "Infinity"],
    [".inf", "Infinity"],
    [".nan", "NaN"],
  ])("says what it got for %s, not null", (value, shown) => {
    const path = file(
      `n-${shown}.yaml`,
      `version: 1\nattachments: [{ interface: pn0, link: { kind: vlan, vlanId: ${value} } }]\n`,
    );
    const r = cli(["agent", "--config", path]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`got ${shown}`);
  });

  it("caps the echo of a 10 MB interface name and of 50,000 unknown keys", () => {
    // 10 MB is over the input cap; 900 KB is not
    const long = cli(["agent", "--config", config({ attachments: [{ interface: "x".repeat(900_000) }] })]);
    expect(long.code).toBe(2);
    expect(long.stderr.length).toBeLessThan(2000);
    const keys = Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`k${i}`, 1]));
    const many = cli(["agent", "--config", config({ ...keys, ...staticAt("198.18.0.5/22") })]);
    expect(many.code).toBe(2);
    const lines = many.stderr.trim().split("\n");
    expect(lines.length).toBeLessThanOrEqual(22);
    expect(lines.at(-1)).toBe("  and 49980 more");
  });
});
