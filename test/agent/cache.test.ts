import { mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
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
import { HoldfastError } from "../../src/errors.js";
import type { LinkInfo } from "../../src/net/backend.js";
import { scratchDir } from "../helpers/scratch.js";

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

const stateDir = () => scratchDir("hf-cache-");

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

  it("GIVEN a static entry with a default route THEN a hit, written as indented JSON", () => {
    const dir = stateDir();
    const identity: Identity = { kind: "existing", mac: "02:00:00:00:00:0a" };
    const staticEntry = entry({
      identity,
      source: "static",
      server: null,
      leaseSeconds: null,
      routes: [
        { dst: "default", via: "198.18.0.1" },
        { dst: "169.254.169.254/32", via: "198.18.0.1", metric: 0 },
      ],
    });
    writeCache(dir, staticEntry);
    expect(readFileSync(join(dir, "pn0.json"), "utf8")).toBe(`${JSON.stringify(staticEntry, null, 2)}\n`);
    expect(loadCache(dir, "pn0", identity, NOW)).toEqual({ kind: "hit", entry: staticEntry });
  });

  it.each([
    ["a MAC of seven octets", { ...VLAN_ID, parentMac: "aa:bb:cc:00:00:01:02" }, "identity.parentMac"],
    ["a MAC with a prefix", { ...VLAN_ID, parentMac: "xaa:bb:cc:00:00:01" }, "identity.parentMac"],
    ["an upper-case MAC", { ...VLAN_ID, parentMac: "AA:BB:CC:00:00:01" }, "identity.parentMac"],
    ["VLAN 0", { ...VLAN_ID, vlanId: 0 }, "identity.vlanId"],
  ])("GIVEN an identity with %s THEN set aside as invalid at %s", (_what, identity, path) => {
    const dir = stateDir();
    writeFileSync(join(dir, "pn0.json"), JSON.stringify(entry({ identity: identity as Identity })));
    const loaded = loadCache(dir, "pn0", VLAN_ID, NOW);
    expect(loaded.kind).toBe("set-aside");
    expect(loaded.kind === "set-aside" && loaded.reason).toMatch(
      new RegExp(`^invalid \\(${path.replace(".", "\\.")}: `),
    );
  });

  it.each([
    ["a negative metric", { dst: "10.0.0.0/8", metric: -1 }, "routes.0.metric"],
    ["a gateway that is no IPv4 address", { dst: "10.0.0.0/8", via: "gw" }, "routes.0.via"],
    ["a destination that is no CIDR", { dst: "10.0.0.0/33" }, "routes.0.dst"],
  ])("GIVEN a route with %s THEN set aside as invalid at %s", (_what, route, path) => {
    const dir = stateDir();
    writeFileSync(join(dir, "pn0.json"), JSON.stringify(entry({ routes: [route] })));
    const loaded = loadCache(dir, "pn0", VLAN_ID, NOW);
    expect(loaded.kind === "set-aside" && loaded.reason).toMatch(
      new RegExp(`^invalid \\(${path.replaceAll(".", "\\.")}: `),
    );
  });
});

// Files the agent did not write as it writes them: each is refused without being followed or
// applied, and none makes loadCache throw.
describe("the cache file as the agent never writes it", () => {
  it("GIVEN pn0.json a symlink to a valid entry THEN set aside unread, and the target left alone", () => {
    const dir = stateDir();
    const elsewhere = join(stateDir(), "valid.json");
    writeFileSync(elsewhere, JSON.stringify(entry()));
    symlinkSync(elsewhere, join(dir, "pn0.json"));
    expect(loadCache(dir, "pn0", VLAN_ID, NOW)).toEqual({
      kind: "set-aside",
      reason: "unreadable (a symlink (refused here))",
      movedTo: join(dir, "pn0.json.corrupt-2026-06-04T10-00-00-123Z"),
    });
    expect(readFileSync(elsewhere, "utf8"), "the link's target").toBe(JSON.stringify(entry()));
  });

  it("GIVEN a stateDir that is a file THEN a miss: nothing to set aside, the agent reports the dir", () => {
    const file = join(stateDir(), "state");
    writeFileSync(file, "not a directory");
    expect(loadCache(file, "pn0", VLAN_ID, NOW)).toEqual({ kind: "miss" });
    expect(readFileSync(file, "utf8")).toBe("not a directory");
  });

  it("GIVEN a route whose destination is no string THEN set aside as invalid, not thrown", () => {
    const dir = stateDir();
    writeFileSync(join(dir, "pn0.json"), JSON.stringify({ ...entry(), routes: [{ dst: 10 }] }));
    const loaded = loadCache(dir, "pn0", VLAN_ID, NOW);
    expect(loaded.kind === "set-aside" && loaded.reason).toMatch(/^invalid \(routes\.0\.dst: /);
  });

  it("GIVEN a file that cannot be moved aside THEN ignored in memory until it changes", () => {
    // As a non-root unit test the rename is made to fail by the target's name: a file name of
    // 245 bytes is legal, its ".corrupt-<time>" one (278) is not (ENAMETOOLONG). The agent
    // meets the same path with a read-only stateDir (EROFS, own-cache.ns.test.ts).
    const dir = stateDir();
    const iface = "p".repeat(240);
    writeFileSync(join(dir, `${iface}.json`), "{ not json");
    expect(loadCache(dir, iface, VLAN_ID, NOW)).toEqual({
      kind: "set-aside",
      reason: "not valid JSON; cannot move it aside (ENAMETOOLONG), ignoring it in memory",
      movedTo: null,
    });
    expect(loadCache(dir, iface, VLAN_ID, NOW), "the same file: not reported again").toEqual({
      kind: "miss",
    });
    writeFileSync(join(dir, `${iface}.json`), "[]");
    expect(loadCache(dir, iface, VLAN_ID, NOW), "a changed file is judged again").toEqual({
      kind: "set-aside",
      reason:
        "invalid ((top level): Invalid input: expected object, received array); cannot move it aside (ENAMETOOLONG), ignoring it in memory",
      movedTo: null,
    });
    expect(readdirSync(dir), "still in place").toEqual([`${iface}.json`]);
  });

  it("GIVEN an entry that breaks the schema THEN writeCache's error names the file, exit 1", () => {
    const dir = stateDir();
    let thrown: unknown;
    try {
      writeCache(dir, entry({ cidr: "198.18.0.10/33" }));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(HoldfastError);
    const error = thrown as HoldfastError;
    expect(error.message).toBe(`refusing to write an invalid cache entry: ${join(dir, "pn0.json")}`);
    expect(error.code, "a lease or the kernel gave it, not the user").toBe("failure");
    expect(error.exitCode).toBe(1);
    expect(error.subject).toBe(join(dir, "pn0.json"));
    expect(error.details.length, error.details.join("\n")).toBe(1);
    expect(error.details[0]).toMatch(/^cidr: /);
  });
});
