import { createHash } from "node:crypto";
import { rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseProbe } from "../../src/converge/probe.js";
import { probeScript, ROOT_READS_LIB } from "../../src/converge/probe-script.js";
import { run } from "../../src/util/exec.js";
import { LEASE_ADDR, STATIC_ADDR, desiredFor, probeOutput } from "./fixtures.js";
import { attachment } from "../observe/fixtures.js";
import { scratchDir } from "../helpers/scratch.js";

describe("probe", () => {
  it("GIVEN a fresh node whose pn0 is held by the old dhclient unit THEN the holder names the pid and unit", () => {
    const probe = parseProbe(probeOutput({ addr: LEASE_ADDR, dhclient: "312:dhclient-pn0.service " }), [
      "pn0",
    ]);
    expect(probe).toMatchObject({ root: "sudo", os: "debian 12", node: "v18.19.0", systemd: true });
    expect(probe.installed.bundleSha256).toBeUndefined();
    expect(probe.interfaces).toEqual([
      {
        name: "pn0",
        holder: "dhclient",
        detail: "dhclient pid 312 (dhclient-pn0.service)",
        addresses: [{ cidr: "172.16.0.2/22", validLft: 8, dynamic: true }],
        clientUnit: "dhclient-pn0.service",
      },
    ]);
  });

  it("tells a static address, an orphan lease, nothing and no interface apart", () => {
    const holder = (addr: string) => parseProbe(probeOutput({ addr }), ["pn0"]).interfaces[0]!.holder;
    expect(holder(STATIC_ADDR), "valid_lft forever, no client").toBe("static");
    expect(holder(LEASE_ADDR), "counting down, no client").toBe("orphan-lease");
    expect(holder("[]"), "no address").toBe("nothing");
    expect(parseProbe(probeOutput({ exists: false }), ["pn0"]).interfaces[0]!.holder).toBe("absent");
  });

  it("names holdfast as the holder, unless a dhclient runs beside it", () => {
    const installed = desiredFor("a");
    const held = parseProbe(probeOutput({ installed, addr: STATIC_ADDR, held: "172.16.0.2/22" }), ["pn0"]);
    expect(held.interfaces[0]!.holder).toBe("holdfast");
    expect(held.installed.version, "from the running agent's status: no `--version` start").toBe(
      installed.version,
    );
    expect(held.status).toEqual({
      running: true,
      version: installed.version,
      attachments: [{ interface: "pn0", state: "held", cidr: "172.16.0.2/22" }],
    });
    const both = parseProbe(
      probeOutput({ installed, addr: STATIC_ADDR, held: "172.16.0.2/22", dhclient: "99: " }),
      ["pn0"],
    );
    expect(both.interfaces[0], "a dhclient beside holdfast still wins: it must go").toMatchObject({
      holder: "dhclient",
      detail: "dhclient pid 99",
    });
  });

  it("GIVEN output cut short (ssh dropped) THEN it refuses to guess", () => {
    expect(() => parseProbe("root=yes\nos=debian 12\n", ["pn0"])).toThrow("probe output is incomplete");
  });

  it("passes shellcheck and runs read-only here, reporting lo and a missing interface", async () => {
    // with the rendered agent's runDir and config sha, as converge runs it
    const script = probeScript(["lo", "hfnope0"], { runDir: "/run/holdfast", configSha256: "0".repeat(64) });
    const check = await run("shellcheck", ["-s", "bash", "-"], { input: script, timeoutMs: 30_000 });
    expect(check.stdout, "shellcheck finds nothing").toBe("");
    const result = await run("bash", ["-s"], { input: script, timeoutMs: 30_000 });
    expect(result.code).toBe(0);
    const probe = parseProbe(result.stdout, ["lo", "hfnope0"]);
    expect(probe.interfaces.map((i) => [i.name, i.holder])).toEqual([
      ["lo", "static"],
      ["hfnope0", "absent"],
    ]);
    expect(probe.interfaces[0]!.addresses).toContainEqual({
      cidr: "127.0.0.1/8",
      validLft: "forever",
      dynamic: false,
    });
    expect(probe.node).toMatch(/^v\d+\./);
  });

  describe("reads a running agent's status file itself (no Node.js start)", () => {
    const statusDoc = (pid: number, updatedAt: Date) => ({
      version: 1,
      agent: {
        pid,
        version: "0.1.0",
        startedAt: "2026-12-01T00:00:00.000Z",
        updatedAt: updatedAt.toISOString(),
        reconcileIntervalMs: 30_000,
      },
      attachments: [
        attachment({
          cidr: "172.16.0.2/22",
          heldSince: "2026-12-01T00:00:01.000Z",
          lastReconcileAt: updatedAt.toISOString(),
        }),
      ],
    });

    /** holdfast_root_reads on files in a temp dir, its lines with the probe's own around them */
    async function rootReads(options: { status?: unknown; configSha?: string; link?: boolean }) {
      const dir = scratchDir("hf-probe-status-");
      try {
        const config = join(dir, "holdfast.yaml");
        writeFileSync(config, "version: 1\n");
        const sha = createHash("sha256").update("version: 1\n").digest("hex");
        const file = join(dir, "status.json");
        if (options.status !== undefined) {
          const real = options.link ? join(dir, "real.json") : file;
          writeFileSync(real, `${JSON.stringify(options.status, null, 2)}\n`);
          if (options.link) symlinkSync(real, file);
        }
        const script = `${ROOT_READS_LIB}\nholdfast_root_reads "$@"`;
        const result = await run("bash", ["-c", script, "bash", file, options.configSha ?? sha, config], {
          timeoutMs: 30_000,
        });
        expect(result.code, result.stderr).toBe(0);
        expect(result.stdout, "the config's sum comes first").toContain(`${sha}  ${config}`);
        const lines = result.stdout.split("\n").filter((l) => l.startsWith("status_"));
        return parseProbe(["root=yes", ...lines, "end=yes"].join("\n"), ["pn0"]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }

    it("GIVEN a live pid and a fresh heartbeat THEN running, with the version and what it holds", async () => {
      const probe = await rootReads({ status: statusDoc(process.pid, new Date()) });
      expect(probe.status).toEqual({
        running: true,
        version: "0.1.0",
        attachments: [{ interface: "pn0", state: "held", cidr: "172.16.0.2/22" }],
      });
      expect(probe.installed.version, "the version comes from the status").toBe("0.1.0");
    });

    it("GIVEN a stale heartbeat or a gone pid THEN not running, as `holdfast status` says", async () => {
      const stale = await rootReads({ status: statusDoc(process.pid, new Date(Date.now() - 120_000)) });
      expect(stale.status?.running, "2 intervals + 5 s without a heartbeat").toBe(false);
      // pid_max is at most 4194304: this pid never exists
      const gone = await rootReads({ status: statusDoc(4_194_303, new Date()) });
      expect(gone.status?.running, "pid gone").toBe(false);
    });

    it("GIVEN another config, a symlink or a file that is not a status THEN no status is read", async () => {
      const other = await rootReads({
        status: statusDoc(process.pid, new Date()),
        configSha: "0".repeat(64),
      });
      expect(other.status, "another config may keep its status elsewhere: the CLI reads it").toBeUndefined();
      const link = await rootReads({ status: statusDoc(process.pid, new Date()), link: true });
      expect(link.status, "never through a symlink").toBeUndefined();
      const bogus = await rootReads({ status: { version: 1, agent: { pid: process.pid } } });
      expect(bogus.status, "validated as `holdfast status` validates it").toBeUndefined();
      const missing = await rootReads({});
      expect(missing.status, "no file: no status").toBeUndefined();
    });
  });
});
