import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  cachePath,
  identityOf,
  loadCache,
  sameIdentity,
  writeCache,
  type CacheEntry,
  type Identity,
} from "../../src/agent/cache.js";
import { parseConfig } from "../../src/config/load.js";
import type { LinkInfo } from "../../src/net/backend.js";

// Fixed inputs only: every branch of the identity and of the cache's distrust, by name.

const attachmentOf = (link: Record<string, unknown>) =>
  parseConfig({ version: 1, attachments: [{ interface: "pn0", link }] }).attachments[0]!;

const linkInfo = (name: string, mac: string, extra: Partial<LinkInfo> = {}): LinkInfo => ({
  name,
  index: 7,
  up: true,
  mac,
  kind: undefined,
  vlanId: undefined,
  parent: undefined,
  ...extra,
});

const PN0 = linkInfo("pn0", "02:00:00:00:00:0a", { kind: "vlan", vlanId: 3250, parent: "eno1" });
const ENO1 = linkInfo("eno1", "aa:bb:cc:00:00:01");
const NOW = new Date("2026-06-04T10:00:00.123Z");

const VLAN_ID: Identity = { kind: "vlan", vlanId: 3250, parentMac: "aa:bb:cc:00:00:01" };

const entry = (fields: Partial<CacheEntry> = {}): CacheEntry => ({
  version: 1,
  interface: "pn0",
  identity: VLAN_ID,
  cidr: "198.18.0.10/22",
  routes: [{ dst: "10.0.0.0/8", via: "198.18.0.1", metric: 1024 }],
  source: "dhcp",
  server: "169.254.169.254",
  leaseSeconds: 10,
  discoveredAt: "2026-06-04T09:00:00.000Z",
  ...fields,
});

const stateDir = () => mkdtempSync(join(tmpdir(), "hf-cache-"));

describe("identityOf", () => {
  it("GIVEN a VLAN and its parent THEN the configured VLAN id and the parent's MAC", () => {
    expect(identityOf(attachmentOf({ kind: "vlan", vlanId: 3250 }), PN0, ENO1)).toEqual(VLAN_ID);
  });

  it("GIVEN a VLAN whose parent cannot be seen THEN the VLAN's own MAC (it inherits the parent's)", () => {
    expect(identityOf(attachmentOf({ kind: "vlan", vlanId: 3250 }), PN0, undefined)).toEqual({
      kind: "vlan",
      vlanId: 3250,
      parentMac: "02:00:00:00:00:0a",
    });
  });

  it("GIVEN an existing interface THEN its own MAC, whatever parent is passed", () => {
    expect(identityOf(attachmentOf({ kind: "existing" }), PN0, ENO1)).toEqual({
      kind: "existing",
      mac: "02:00:00:00:00:0a",
    });
  });

  it("GIVEN the config's VLAN id differs from the kernel's THEN the config's: it is what the cache was for", () => {
    expect(identityOf(attachmentOf({ kind: "vlan", vlanId: 3251 }), PN0, ENO1)).toEqual({
      ...VLAN_ID,
      vlanId: 3251,
    });
  });
});

describe("sameIdentity", () => {
  it("GIVEN equal identities THEN true; any field different THEN false", () => {
    expect(sameIdentity(VLAN_ID, { ...VLAN_ID })).toBe(true);
    expect(sameIdentity(VLAN_ID, { ...VLAN_ID, vlanId: 3251 })).toBe(false);
    expect(sameIdentity(VLAN_ID, { ...VLAN_ID, parentMac: "aa:bb:cc:00:00:02" })).toBe(false);
    expect(
      sameIdentity(
        { kind: "existing", mac: "aa:bb:cc:00:00:01" },
        { kind: "existing", mac: "aa:bb:cc:00:00:01" },
      ),
    ).toBe(true);
    expect(
      sameIdentity(
        { kind: "existing", mac: "aa:bb:cc:00:00:01" },
        { kind: "existing", mac: "aa:bb:cc:00:00:02" },
      ),
    ).toBe(false);
  });
});

describe("the cache file", () => {
  it("GIVEN nothing written THEN a miss, and nothing is created", () => {
    const dir = stateDir();
    expect(loadCache(dir, "pn0", VLAN_ID, NOW)).toEqual({ kind: "miss" });
    expect(readdirSync(dir)).toEqual([]);
  });

  it("GIVEN an entry written for this identity THEN a hit with exactly that entry, file mode 0600", () => {
    const dir = stateDir();
    writeCache(dir, entry());
    expect(cachePath(dir, "pn0")).toBe(join(dir, "pn0.json"));
    expect(statSync(join(dir, "pn0.json")).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, "pn0.json"), "utf8").endsWith("}\n")).toBe(true);
    expect(loadCache(dir, "pn0", VLAN_ID, NOW)).toEqual({ kind: "hit", entry: entry() });
  });

  it("GIVEN an entry that breaks the schema THEN writeCache refuses it and writes nothing", () => {
    const dir = stateDir();
    expect(() => writeCache(dir, entry({ cidr: "198.18.0.10/33" }))).toThrow();
    expect(() => writeCache(dir, entry({ identity: { ...VLAN_ID, vlanId: 4095 } }))).toThrow();
    expect(readdirSync(dir)).toEqual([]);
  });

  // GIVEN a file in doubt THEN it is moved aside with the reason, never applied
  const setAsideCases: [string, (dir: string) => void, Identity, string][] = [
    ["not JSON", (dir) => writeFileSync(join(dir, "pn0.json"), "{ not json"), VLAN_ID, "not valid JSON"],
    [
      "a VLAN id out of range",
      (dir) =>
        writeFileSync(
          join(dir, "pn0.json"),
          JSON.stringify(entry({ identity: { ...VLAN_ID, vlanId: 4095 } })),
        ),
      VLAN_ID,
      "invalid (identity.vlanId: Too big: expected number to be <=4094)",
    ],
    [
      "an unknown field",
      (dir) => writeFileSync(join(dir, "pn0.json"), JSON.stringify({ ...entry(), extra: 1 })),
      VLAN_ID,
      'invalid ((top level): Unrecognized key: "extra")',
    ],
    [
      "the top level not an object",
      (dir) => writeFileSync(join(dir, "pn0.json"), "[]"),
      VLAN_ID,
      "invalid ((top level): Invalid input: expected object, received array)",
    ],
    [
      "another interface's entry",
      (dir) => writeFileSync(join(dir, "pn0.json"), JSON.stringify(entry({ interface: "pn1" }))),
      VLAN_ID,
      "written for pn1",
    ],
    [
      "another VLAN id",
      (dir) => writeCache(dir, entry()),
      { ...VLAN_ID, vlanId: 3251 },
      `other identity (${JSON.stringify(VLAN_ID)}, now ${JSON.stringify({ ...VLAN_ID, vlanId: 3251 })})`,
    ],
    [
      "another parent MAC",
      (dir) => writeCache(dir, entry()),
      { ...VLAN_ID, parentMac: "aa:bb:cc:00:00:99" },
      `other identity (${JSON.stringify(VLAN_ID)}, now ${JSON.stringify({ ...VLAN_ID, parentMac: "aa:bb:cc:00:00:99" })})`,
    ],
    [
      "a directory where the file should be",
      (dir) => mkdirSync(join(dir, "pn0.json")),
      VLAN_ID,
      "unreadable (a directory, not a regular file)",
    ],
  ];
  for (const [what, arrange, identity, reason] of setAsideCases) {
    it(`GIVEN ${what} THEN set aside as .corrupt-<time>: ${reason}`, () => {
      const dir = stateDir();
      arrange(dir);
      const movedTo = join(dir, "pn0.json.corrupt-2026-06-04T10-00-00-123Z");
      expect(loadCache(dir, "pn0", identity, NOW)).toEqual({ kind: "set-aside", reason, movedTo });
      expect(readdirSync(dir)).toEqual(["pn0.json.corrupt-2026-06-04T10-00-00-123Z"]);
      // once aside, the next load is a plain miss: the attachment rediscovers
      expect(loadCache(dir, "pn0", identity, NOW)).toEqual({ kind: "miss" });
    });
  }
});
