import { writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_CONFIG_PATH,
  formatPath,
  loadConfig,
  parseConfig,
  parseDocument,
} from "../../src/config/load.js";
import { parseDuration } from "../../src/config/duration.js";
import { HoldfastError } from "../../src/errors.js";
import { scratchDir } from "../helpers/scratch.js";

const base = { version: 1, attachments: [{ interface: "pn0" }] };

function errorOf(document: unknown): HoldfastError {
  try {
    parseConfig(document, "/etc/holdfast/holdfast.yaml");
  } catch (error) {
    if (error instanceof HoldfastError) return error;
    throw error;
  }
  throw new Error("config was accepted");
}

describe("config", () => {
  it("applies every default", () => {
    expect(parseConfig(base)).toEqual({
      version: 1,
      stateDir: "/var/lib/holdfast",
      runDir: "/run/holdfast",
      attachments: [
        {
          interface: "pn0",
          link: { kind: "existing" },
          address: { source: "dhcp", dhcpClient: "auto", confirmInterval: "auto", onReassign: "follow" },
          conflict: { detect: true, interval: 30_000, onConflict: "defend" },
          discovery: { attemptTimeout: 15_000, maxBackoff: 30_000 },
          reconcileInterval: 30_000,
        },
      ],
    });
  });

  it("accepts the design's example", () => {
    const config = parseConfig({
      version: 1,
      metrics: { listen: "127.0.0.1:9464", textfile: "/var/lib/prometheus/node-exporter/holdfast.prom" },
      attachments: [
        {
          interface: "pn0",
          link: { kind: "vlan", parent: "auto", vlanId: 3250 },
          address: { source: "dhcp", dhcpClient: "auto" },
          conflict: { detect: true, interval: "30s", onConflict: "defend" },
          discovery: { attemptTimeout: "15s", maxBackoff: "30s" },
          reconcileInterval: "30s",
        },
      ],
    });
    expect(config.attachments[0]?.link).toEqual({ kind: "vlan", parent: "auto", vlanId: 3250 });
    expect(config.attachments[0]?.conflict).toEqual({ detect: true, interval: 30_000, onConflict: "defend" });
  });

  it("takes confirmInterval as auto, off or a duration", () => {
    const interval = (confirmInterval: string) =>
      parseConfig({
        version: 1,
        attachments: [{ interface: "pn0", address: { source: "dhcp", confirmInterval } }],
      }).attachments[0]!.address;
    expect(interval("auto")).toMatchObject({ confirmInterval: "auto" });
    expect(interval("off")).toMatchObject({ confirmInterval: "off" });
    expect(interval("10m")).toMatchObject({ confirmInterval: 600_000 });
  });

  it.each([
    [{ ...base, version: 2 }, "version: expected 1, got 2"],
    [{ ...base, extra: true }, "extra: unknown field"],
    [
      { version: 1, attachments: [{ interface: "pn0", conflict: { onConflict: "fight" } }] },
      'attachments[0].conflict.onConflict: expected "defend" or "yield", got "fight"',
    ],
    [
      { version: 1, attachments: [{ interface: "pn0", conflict: { interval: "10ms" } }] },
      'attachments[0].conflict.interval: expected a duration like "500ms", "15s", "10m" or "1h", between 1s and 1h, got "10ms"',
    ],
    [{ version: 1, attachments: [] }, "attachments: expected a list of 1-8 attachments, got an empty list"],
    [
      { version: 1, attachments: Array.from({ length: 9 }, (_, i) => ({ interface: `pn${i}` })) },
      "attachments: expected at most 8 attachments, got 9",
    ],
    [
      { version: 1, attachments: [{ interface: "a-very-long-name0" }] },
      'attachments[0].interface: expected an interface name of 1-15 characters from [A-Za-z0-9_.-], not starting with "-" or ".", got "a-very-long-name0"',
    ],
    [
      { version: 1, attachments: [{ interface: "-k" }] },
      'attachments[0].interface: expected an interface name of 1-15 characters from [A-Za-z0-9_.-], not starting with "-" or ".", got "-k"',
    ],
    [
      { version: 1, attachments: [{ interface: "pn0", link: { kind: "vlan", vlanId: 5000 } }] },
      "attachments[0].link.vlanId: expected an integer 1-4094, got 5000",
    ],
    [
      { version: 1, attachments: [{ interface: "pn0", link: { kind: "bond" } }] },
      'attachments[0].link.kind: expected "vlan" or "existing", got "bond"',
    ],
    [
      {
        version: 1,
        attachments: [{ interface: "pn0", address: { source: "static", cidr: "172.16.0.300/22" } }],
      },
      'attachments[0].address.cidr: expected an IPv4 CIDR like "172.16.0.2/22", got "172.16.0.300/22"',
    ],
    [
      { version: 1, attachments: [{ interface: "pn0", address: { source: "dhcp", dhcpClient: "pump" } }] },
      'attachments[0].address.dhcpClient: expected one of auto, udhcpc, dhcpcd, dhclient, got "pump"',
    ],
    [
      {
        version: 1,
        attachments: [
          { interface: "pn0", address: { source: "static", cidr: "172.16.0.2/22", confirmInterval: "1h" } },
        ],
      },
      'attachments[0].address.confirmInterval: only for source: dhcp (a static address has no server to confirm it with), got "1h"',
    ],
    [
      {
        version: 1,
        attachments: [
          { interface: "pn0", address: { source: "static", cidr: "172.16.0.2/22", onReassign: "hold" } },
        ],
      },
      'attachments[0].address.onReassign: only for source: dhcp (a static address has no server that could reassign it), got "hold"',
    ],
    [
      {
        version: 1,
        attachments: [{ interface: "pn0", address: { source: "dhcp", confirmInterval: "often" } }],
      },
      'attachments[0].address.confirmInterval: expected "auto", "off" or a duration like "30s", "10m" or "1h", between 1s and 24h, got "often"',
    ],
    [
      { version: 1, attachments: [{ interface: "pn0", address: { source: "dhcp", onReassign: "ignore" } }] },
      'attachments[0].address.onReassign: expected "follow" or "hold", got "ignore"',
    ],
    [
      { version: 1, attachments: [{ interface: "pn0", reconcileInterval: "soon" }] },
      'attachments[0].reconcileInterval: expected a duration like "500ms", "15s", "10m" or "1h", between 100ms and 1h, got "soon"',
    ],
    [
      { version: 1, attachments: [{ interface: "pn0" }, { interface: "pn0" }] },
      'attachments[1].interface: expected a unique interface name, got "pn0" (also attachments[0])',
    ],
    [{ ...base, stateDir: "var/lib" }, 'stateDir: expected an absolute path, got "var/lib"'],
    [
      { ...base, metrics: { listen: "9464" } },
      'metrics.listen: expected "host:port" like "127.0.0.1:9464" (an IPv4 address, [IPv6] or a host name, port 1-65535), got "9464"',
    ],
  ])("rejects %j naming the field", (document, detail) => {
    const error = errorOf(document);
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe("invalid config: /etc/holdfast/holdfast.yaml");
    expect(error.details).toContain(detail);
  });

  it("names the file when it is not YAML, or missing", () => {
    const dir = scratchDir("hf-config-");
    writeFileSync(join(dir, "bad.yaml"), "version: 1\nattachments: [\n");
    expect(() => loadConfig(join(dir, "bad.yaml"))).toThrow(
      `not valid YAML or JSON: ${join(dir, "bad.yaml")}`,
    );
    expect(() => loadConfig(join(dir, "none.yaml"))).toThrow(`cannot read file: ${join(dir, "none.yaml")}`);
  });

  it("parses every duration unit and rejects anything else", () => {
    expect([parseDuration("500ms"), parseDuration("15s"), parseDuration("10m"), parseDuration("1h")]).toEqual(
      [500, 15_000, 600_000, 3_600_000],
    );
    fc.assert(
      fc.property(fc.string(), (text) => {
        const ms = parseDuration(text);
        return ms === undefined || /^\s*\d+(\.\d+)?(ms|s|m|h)\s*$/.test(text);
      }),
    );
  });

  it("GIVEN no file name THEN errors name <config>; the default path is /etc/holdfast/holdfast.yaml", () => {
    expect(() => parseConfig({ version: 2 })).toThrow("invalid config: <config>");
    expect(DEFAULT_CONFIG_PATH).toBe("/etc/holdfast/holdfast.yaml");
  });

  it("GIVEN a document that is no mapping THEN the problem is at (top level)", () => {
    expect(errorOf("version: 1").details).toEqual([
      "(top level): Invalid input: expected object, received string",
    ]);
    expect(formatPath([])).toBe("(top level)");
    expect(formatPath(["attachments", 0, "link", "vlanId"])).toBe("attachments[0].link.vlanId");
    expect(formatPath([2, "x"])).toBe("[2].x");
  });

  it("GIVEN two unknown fields in one place THEN one line each", () => {
    expect(errorOf({ ...base, extra: 1, other: 2 }).details).toEqual([
      "extra: unknown field",
      "other: unknown field",
    ]);
  });

  it("GIVEN a key twice THEN not valid YAML, naming the first line of the parser's message", () => {
    expect(() => parseDocument("version: 1\nversion: 1\n", "dup.yaml")).toThrow(
      "not valid YAML or JSON: dup.yaml",
    );
    try {
      parseDocument("version: 1\nversion: 1\n", "dup.yaml");
    } catch (error) {
      const details = (error as HoldfastError).details;
      expect(details).toHaveLength(1);
      expect(details[0]).toMatch(/^Map keys must be unique at line 2, column 1:?$/);
    }
  });

  it("GIVEN a missing file or a directory THEN cannot read file, with why", () => {
    const dir = scratchDir("hf-config-");
    for (const [file, why] of [
      [join(dir, "none.yaml"), "no such file"],
      [dir, "a directory, not a regular file"],
    ] as const) {
      try {
        loadConfig(file);
        throw new Error("accepted");
      } catch (error) {
        expect(error).toBeInstanceOf(HoldfastError);
        expect((error as HoldfastError).message).toBe(`cannot read file: ${file}`);
        expect((error as HoldfastError).details).toEqual([why]);
        expect((error as HoldfastError).exitCode).toBe(2);
      }
    }
  });
});
