import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { HoldfastError } from "../../src/errors.js";

// Every bound the agent config validates, tested on both sides of it: the last value that is
// accepted and the first that is refused, with the exact message a user reads.

const FILE = "/etc/holdfast/holdfast.yaml";

const withAttachment = (fields: Record<string, unknown>): Record<string, unknown> => ({
  version: 1,
  attachments: [{ interface: "pn0", ...fields }],
});

function detailsOf(document: unknown): readonly string[] {
  try {
    parseConfig(document, FILE);
  } catch (error) {
    if (!(error instanceof HoldfastError)) throw error;
    expect(error.exitCode, "invalid input exits 2").toBe(2);
    expect(error.message).toBe(`invalid config: ${FILE}`);
    return error.details;
  }
  throw new Error(`config was accepted: ${JSON.stringify(document)}`);
}

const vlan = (vlanId: unknown, parent?: string) =>
  withAttachment({ link: { kind: "vlan", vlanId, ...(parent === undefined ? {} : { parent }) } });

describe("config bounds: vlanId (802.1Q: 0 and 4095 are reserved)", () => {
  it.each([1, 2, 4093, 4094])("GIVEN vlanId %d THEN accepted as it is", (vlanId) => {
    expect(parseConfig(vlan(vlanId)).attachments[0]?.link).toEqual({ kind: "vlan", parent: "auto", vlanId });
  });

  it.each([
    [0, "0"],
    [4095, "4095"],
    [-1, "-1"],
    [3250.5, "3250.5"],
    ["3250", '"3250"'],
    [null, "null"],
  ])("GIVEN vlanId %j THEN refused naming the field", (vlanId, shown) => {
    expect(detailsOf(vlan(vlanId))).toEqual([
      `attachments[0].link.vlanId: expected an integer 1-4094, got ${shown}`,
    ]);
  });

  it("GIVEN a VLAN without vlanId THEN refused: there is no default id", () => {
    expect(detailsOf(withAttachment({ link: { kind: "vlan" } }))).toEqual([
      "attachments[0].link.vlanId: expected an integer 1-4094, got nothing",
    ]);
  });
});

describe("config bounds: a VLAN's parent", () => {
  it("GIVEN a parent equal to the VLAN's own interface THEN refused at link.parent", () => {
    expect(detailsOf(vlan(3250, "pn0"))).toEqual([
      'attachments[0].link.parent: expected a parent other than the VLAN interface itself, got "pn0"',
    ]);
  });

  it("GIVEN another interface, or auto, THEN accepted", () => {
    expect(parseConfig(vlan(3250, "eno1")).attachments[0]?.link).toMatchObject({ parent: "eno1" });
    expect(parseConfig(vlan(3250, "auto")).attachments[0]?.link).toMatchObject({ parent: "auto" });
  });

  it("GIVEN a parent that is no interface name THEN refused", () => {
    expect(detailsOf(vlan(3250, "eno 1"))).toEqual([
      'attachments[0].link.parent: expected an interface name of 1-15 characters from [A-Za-z0-9_.-], not starting with "-" or ".", got "eno 1"',
    ]);
    expect(detailsOf(withAttachment({ link: { kind: "vlan", vlanId: 3250, parent: 5 } }))).toEqual([
      'attachments[0].link.parent: expected "auto" or an interface name, got 5',
    ]);
  });

  it("GIVEN an empty parent THEN refused as no interface name, not taken for auto", () => {
    expect(detailsOf(vlan(3250, ""))).toEqual([
      'attachments[0].link.parent: expected an interface name of 1-15 characters from [A-Za-z0-9_.-], not starting with "-" or ".", got ""',
    ]);
  });

  it("GIVEN an existing link with a parent THEN refused: only a VLAN has one", () => {
    expect(detailsOf(withAttachment({ link: { kind: "existing", parent: "eno1" } }))).toEqual([
      "attachments[0].link.parent: unknown field",
    ]);
  });
});

describe("config: what the link and address must be", () => {
  it("GIVEN a link or address that is no mapping THEN refused saying what it may be", () => {
    expect(detailsOf(withAttachment({ link: null }))).toEqual([
      'attachments[0].link: expected "vlan" or "existing", got nothing',
    ]);
    expect(detailsOf(withAttachment({ address: null }))).toEqual([
      'attachments[0].address: expected "dhcp" or "static", got nothing',
    ]);
    expect(detailsOf(withAttachment({ address: { source: "bootp" } }))).toEqual([
      'attachments[0].address.source: expected "dhcp" or "static", got "bootp"',
    ]);
  });

  it("GIVEN a cidr, listen or path that is no string THEN the same message as for a bad string", () => {
    expect(detailsOf(withAttachment({ address: { source: "static", cidr: 7 } }))).toEqual([
      'attachments[0].address.cidr: expected an IPv4 CIDR like "172.16.0.2/22", got 7',
    ]);
    expect(detailsOf({ version: 1, metrics: { listen: 9464 }, attachments: [{ interface: "pn0" }] })).toEqual(
      [
        'metrics.listen: expected "host:port" like "127.0.0.1:9464" (an IPv4 address, [IPv6] or a host name, port 1-65535), got 9464',
      ],
    );
    expect(detailsOf({ version: 1, runDir: 1, attachments: [{ interface: "pn0" }] })).toEqual([
      "runDir: expected an absolute path, got 1",
    ]);
  });
});

describe("config bounds: interface names (IFNAMSIZ)", () => {
  it("GIVEN 15 characters THEN accepted; 16 or none THEN refused", () => {
    expect(parseConfig(withAttachment({ interface: "a".repeat(15) })).attachments[0]?.interface).toBe(
      "a".repeat(15),
    );
    const rule =
      'expected an interface name of 1-15 characters from [A-Za-z0-9_.-], not starting with "-" or "."';
    expect(detailsOf(withAttachment({ interface: "a".repeat(16) }))).toEqual([
      `attachments[0].interface: ${rule}, got "${"a".repeat(16)}"`,
    ]);
    expect(detailsOf(withAttachment({ interface: "" }))).toEqual([
      `attachments[0].interface: ${rule}, got ""`,
    ]);
    expect(detailsOf(withAttachment({ interface: ".pn0" }))).toEqual([
      `attachments[0].interface: ${rule}, got ".pn0"`,
    ]);
    expect(detailsOf(withAttachment({ interface: 7 }))).toEqual([
      "attachments[0].interface: expected an interface name (1-15 characters), got 7",
    ]);
  });
});

describe("config bounds: durations", () => {
  // [path in the attachment, the document for a value, min, its ms, max, its ms, just under, just over]
  const fields: [
    string,
    (v: string) => Record<string, unknown>,
    string,
    number,
    string,
    number,
    string,
    string,
  ][] = [
    [
      "discovery.attemptTimeout",
      (v) => ({ discovery: { attemptTimeout: v } }),
      "1s",
      1000,
      "5m",
      300_000,
      "999ms",
      "300001ms",
    ],
    [
      "discovery.maxBackoff",
      (v) => ({ discovery: { maxBackoff: v } }),
      "1s",
      1000,
      "1h",
      3_600_000,
      "999ms",
      "3600001ms",
    ],
    [
      "reconcileInterval",
      (v) => ({ reconcileInterval: v }),
      "100ms",
      100,
      "1h",
      3_600_000,
      "99ms",
      "3600001ms",
    ],
  ];
  const read = (config: ReturnType<typeof parseConfig>, path: string): unknown =>
    path.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], config.attachments[0]);

  for (const [path, doc, min, minMs, max, maxMs, below, above] of fields) {
    it(`${path}: GIVEN its min ${min} and its max ${max} THEN accepted, in ms`, () => {
      expect(read(parseConfig(withAttachment(doc(min))), path)).toBe(minMs);
      expect(read(parseConfig(withAttachment(doc(max))), path)).toBe(maxMs);
      // the same bounds spelled in another unit
      expect(read(parseConfig(withAttachment(doc(`${minMs}ms`))), path)).toBe(minMs);
      expect(read(parseConfig(withAttachment(doc(`${maxMs}ms`))), path)).toBe(maxMs);
    });

    it(`${path}: GIVEN ${below} (under its min) or ${above} (over its max) THEN refused with the range`, () => {
      for (const value of [below, above]) {
        expect(detailsOf(withAttachment(doc(value))), value).toEqual([
          `attachments[0].${path}: expected a duration like "500ms", "15s", "10m" or "1h", between ${min} and ${max}, got "${value}"`,
        ]);
      }
    });
  }

  it("GIVEN a number instead of a duration string THEN refused with the range", () => {
    expect(detailsOf(withAttachment({ reconcileInterval: 30 }))).toEqual([
      'attachments[0].reconcileInterval: expected a duration like "500ms", "15s", "10m" or "1h", between 100ms and 1h',
    ]);
  });
});

describe("config bounds: addresses", () => {
  const staticCidr = (cidr: unknown) => withAttachment({ address: { source: "static", cidr } });

  it.each(["172.16.0.2/22", "198.18.0.10/32", "10.0.0.1/8", "198.18.3.254/22", "1.0.0.1/31"])(
    "GIVEN static cidr %s THEN accepted",
    (cidr) => {
      expect(parseConfig(staticCidr(cidr)).attachments[0]?.address).toEqual({ source: "static", cidr });
    },
  );

  // What the schema refuses today: not dotted-quad IPv4 with a prefix length 0-32.
  it.each([
    "172.16.0.2/33",
    "172.16.0.2/100",
    "172.16.0.2/022",
    "172.16.0.2/2a",
    "172.16.0.2",
    "172.16.0.2/",
    "172.16.0.2/22/1",
    "172.16.0.256/22",
    "172.16.0.02/22",
    "172.16.0/22",
    "172.16.0.2.1/22",
    "fd00::2/64",
    " 172.16.0.2/22",
    "172.16.0.2/-1",
  ])("GIVEN static cidr %j THEN refused", (cidr) => {
    expect(detailsOf(staticCidr(cidr))).toEqual([
      `attachments[0].address.cidr: expected an IPv4 CIDR like "172.16.0.2/22", got ${JSON.stringify(cidr)}`,
    ]);
  });

  // Well-formed, but not an address the kernel would hold on a link (the issue-13 rule).
  it.each([
    ["10.0.0.1/0", "a /0 prefix is the whole Internet, not a network"],
    ["0.0.0.0/8", "0.0.0.0/8 means this host, not an address"],
    ["172.16.0.0/22", "it is the network address of its /22"],
  ])("GIVEN static cidr %j THEN refused as unholdable", (cidr, why) => {
    expect(detailsOf(staticCidr(cidr))).toEqual([
      `attachments[0].address.cidr: expected a unicast host address in CIDR form like "172.16.0.2/22", got ${JSON.stringify(cidr)} (${why})`,
    ]);
  });

  it("GIVEN a static address without a cidr, or dhcp with one THEN refused", () => {
    expect(detailsOf(withAttachment({ address: { source: "static" } }))).toEqual([
      'attachments[0].address.cidr: expected an IPv4 CIDR like "172.16.0.2/22", got nothing',
    ]);
    expect(detailsOf(withAttachment({ address: { source: "dhcp", cidr: "172.16.0.2/22" } }))).toEqual([
      "attachments[0].address.cidr: unknown field",
    ]);
  });
});

describe("config bounds: the metrics endpoint and paths", () => {
  const listen = (value: string) => ({
    version: 1,
    metrics: { listen: value },
    attachments: [{ interface: "pn0" }],
  });

  it.each(["127.0.0.1:1", "127.0.0.1:9464", "127.0.0.1:65535", "[::1]:9464", "localhost:80"])(
    "GIVEN listen %s THEN accepted",
    (value) => {
      expect(parseConfig(listen(value)).metrics?.listen).toBe(value);
    },
  );

  it.each([
    "127.0.0.1:0",
    "127.0.0.1:65536",
    "127.0.0.1:",
    ":9464",
    "127.0.0.1:123456",
    "127.0.0.1",
    // a good host:port on the last line is no excuse for the first: the whole value is the address
    "bad\n127.0.0.1:9464",
  ])("GIVEN listen %j THEN refused", (value) => {
    expect(detailsOf(listen(value))).toEqual([
      `metrics.listen: expected "host:port" like "127.0.0.1:9464" (an IPv4 address, [IPv6] or a host name, port 1-65535), got ${JSON.stringify(value)}`,
    ]);
  });

  it.each(["relative/dir", "/var/lib/hold\nfast", "/var/lib/hold\0fast", ""])(
    "GIVEN stateDir %j THEN refused as not an absolute path",
    (value) => {
      expect(detailsOf({ version: 1, stateDir: value, attachments: [{ interface: "pn0" }] })).toEqual([
        `stateDir: expected an absolute path, got ${JSON.stringify(value)}`,
      ]);
    },
  );

  it("GIVEN a textfile that is not absolute THEN refused at metrics.textfile", () => {
    expect(
      detailsOf({ version: 1, metrics: { textfile: "holdfast.prom" }, attachments: [{ interface: "pn0" }] }),
    ).toEqual(['metrics.textfile: expected an absolute path, got "holdfast.prom"']);
  });
});

describe("config bounds: attachments (a server takes at most 8 private networks)", () => {
  const attachments = (n: number) => ({
    version: 1,
    attachments: Array.from({ length: n }, (_, i) => ({ interface: `pn${i}` })),
  });

  it.each([1, 8])("GIVEN %d attachment(s) THEN accepted", (n) => {
    expect(parseConfig(attachments(n)).attachments).toHaveLength(n);
  });

  it("GIVEN 0 THEN refused as an empty list; GIVEN 9 THEN refused naming the count", () => {
    expect(detailsOf(attachments(0))).toEqual([
      "attachments: expected a list of 1-8 attachments, got an empty list",
    ]);
    expect(detailsOf(attachments(9))).toEqual(["attachments: expected at most 8 attachments, got 9"]);
  });

  it("GIVEN no list THEN refused saying what a list is", () => {
    expect(detailsOf({ version: 1, attachments: { interface: "pn0" } })).toEqual([
      'attachments: expected a list of 1-8 attachments, got {"interface":"pn0"}',
    ]);
    expect(detailsOf({ version: 1 })).toEqual([
      "attachments: expected a list of 1-8 attachments, got nothing",
    ]);
  });

  it("GIVEN three attachments on one interface THEN each repeat names the first", () => {
    expect(
      detailsOf({
        version: 1,
        attachments: [{ interface: "pn0" }, { interface: "pn1" }, { interface: "pn0" }, { interface: "pn0" }],
      }),
    ).toEqual([
      'attachments[2].interface: expected a unique interface name, got "pn0" (also attachments[0])',
      'attachments[3].interface: expected a unique interface name, got "pn0" (also attachments[0])',
    ]);
  });
});

describe("config: every problem at once", () => {
  it("GIVEN mistakes in two attachments THEN both are reported, each with its path", () => {
    expect(
      detailsOf({
        version: 1,
        attachments: [
          { interface: "pn0", link: { kind: "vlan", vlanId: 4095 } },
          { interface: "pn1", reconcileInterval: "2h" },
        ],
      }),
    ).toEqual([
      "attachments[0].link.vlanId: expected an integer 1-4094, got 4095",
      'attachments[1].reconcileInterval: expected a duration like "500ms", "15s", "10m" or "1h", between 100ms and 1h, got "2h"',
    ]);
  });
});
