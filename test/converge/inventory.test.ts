import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadInventory, parseInventory } from "../../src/converge/inventory.js";
import { HoldfastError } from "../../src/errors.js";
import { scratchDir } from "../helpers/scratch.js";

const dir = scratchDir("hf-inventory-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SPEC = [
  "version: 1",
  "node: { name: will-be-replaced, bootstrapUser: ubuntu }",
  "agent:",
  "  config:",
  "    version: 1",
  "    attachments: [{ interface: pn0, link: { kind: vlan, vlanId: 3250 } }]",
  "",
].join("\n");

mkdirSync(join(dir, "specs"));
writeFileSync(join(dir, "specs", "node-spec.yaml"), SPEC);
writeFileSync(join(dir, "specs", "other-spec.yaml"), SPEC.replace("3250", "3251"));

function errorOf(fn: () => unknown): HoldfastError {
  try {
    fn();
  } catch (error) {
    if (error instanceof HoldfastError) return error;
    throw error;
  }
  throw new Error("accepted");
}

describe("inventory (design §4.7)", () => {
  it("reads the design's example: spec paths beside the inventory, host names as node.name", () => {
    const file = join(dir, "inventory.yaml");
    writeFileSync(
      file,
      [
        "version: 1",
        "defaults: { user: ubuntu, port: 22, spec: ./specs/node-spec.yaml }",
        "hosts:",
        "  - { name: cache-a, address: 203.0.113.10 }",
        "  - { name: cache-b, address: 203.0.113.11, user: root, spec: ./specs/other-spec.yaml }",
      ].join("\n"),
    );
    const inventory = loadInventory(file);
    expect(
      inventory.hosts.map((h) => [h.name, h.address, h.user, h.port, h.specFile]),
      "spec paths resolve next to the inventory",
    ).toEqual([
      ["cache-a", "203.0.113.10", "ubuntu", 22, join(dir, "specs", "node-spec.yaml")],
      ["cache-b", "203.0.113.11", "root", 22, join(dir, "specs", "other-spec.yaml")],
    ]);
    expect(
      inventory.hosts.map((h) => h.spec.node.name),
      "the host name replaces the spec's node.name",
    ).toEqual(["cache-a", "cache-b"]);
    const vlan = inventory.hosts[1]!.spec.agent.config.attachments[0]!.link;
    expect(vlan).toEqual({ kind: "vlan", parent: "auto", vlanId: 3251 });
  });

  it("GIVEN no user or port anywhere THEN they stay unset so ~/.ssh/config decides", () => {
    const inv = parseInventory(
      { version: 1, hosts: [{ name: "a", address: "cache-a.example", spec: "./specs/node-spec.yaml" }] },
      join(dir, "x.yaml"),
    );
    expect([inv.hosts[0]!.user, inv.hosts[0]!.port]).toEqual([undefined, undefined]);
  });

  it("GIVEN every kind of mistake THEN one error names the file and each field path, exit 2", () => {
    const error = errorOf(() =>
      parseInventory(
        {
          version: 2,
          defaults: { port: 70000, user: "Root" },
          hosts: [
            { name: "Cache_A", address: "-oProxyCommand=evil" },
            { name: "b", address: "10.0.0.1", extra: 1 },
            { name: "b", address: "10.0.0.2", spec: "./s.yaml" },
          ],
        },
        "/srv/inventory.yaml",
      ),
    );
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe("invalid inventory: /srv/inventory.yaml");
    expect(error.details).toEqual(
      [
        "version: expected 1, got 2",
        'defaults.user: expected a Linux user name (1-32 characters from [a-z0-9_-]), got "Root"',
        "defaults.port: expected a port number 1-65535, got 70000",
        'hosts[0].name: expected an RFC 1123 host name (lower-case labels of [a-z0-9-]; it becomes node.name), got "Cache_A"',
        'hosts[0].address: expected a host name, IP address or ssh Host alias (not starting with "-", no spaces), got "-oProxyCommand=evil"',
        "hosts[1]: unknown field extra",
      ].map((d) => d.replace("hosts[1]: unknown field extra", "hosts[1].extra: unknown field")),
    );
  });

  it("names hosts[i].spec when a host has no spec, and refuses duplicate names", () => {
    const error = errorOf(() =>
      parseInventory(
        {
          version: 1,
          hosts: [
            { name: "a", address: "10.0.0.1" },
            { name: "a", address: "10.0.0.2", spec: "./specs/node-spec.yaml" },
          ],
        },
        "/srv/inv.yaml",
      ),
    );
    expect(error.details).toEqual([
      "hosts[0].spec: expected a render spec path here or in defaults.spec, got nothing",
      'hosts[1].name: expected a unique name, got "a" again (also hosts[0])',
    ]);
  });

  it("GIVEN an empty host list THEN it says so", () => {
    expect(errorOf(() => parseInventory({ version: 1, hosts: [] }, "i.yaml")).details).toEqual([
      "hosts: expected at least one host, got an empty list",
    ]);
  });

  it("GIVEN a bad or missing spec THEN the error names the spec file and its field path", () => {
    writeFileSync(join(dir, "bad-spec.yaml"), SPEC.replace("3250", "5000"));
    const bad = errorOf(() =>
      parseInventory(
        { version: 1, hosts: [{ name: "a", address: "h", spec: "bad-spec.yaml" }] },
        join(dir, "i.yaml"),
      ),
    );
    expect(bad.message).toBe(`invalid render spec: ${join(dir, "bad-spec.yaml")}`);
    expect(bad.details).toEqual([
      "agent.config.attachments[0].link.vlanId: expected an integer 1-4094, got 5000",
    ]);
    const missing = errorOf(() =>
      parseInventory(
        { version: 1, hosts: [{ name: "a", address: "h", spec: "nope.yaml" }] },
        join(dir, "i.yaml"),
      ),
    );
    expect(missing.message).toBe(`cannot read file: ${join(dir, "nope.yaml")}`);
    expect(missing.exitCode).toBe(2);
  });
});

describe("inventory bounds", () => {
  const host = (fields: Record<string, unknown>) => ({
    version: 1,
    hosts: [{ name: "a", address: "10.0.0.1", spec: "./specs/node-spec.yaml", ...fields }],
  });
  const detailsOf = (document: unknown) =>
    errorOf(() => parseInventory(document, join(dir, "i.yaml"))).details;
  const accepted = (document: unknown) => parseInventory(document, join(dir, "i.yaml")).hosts[0]!;

  it.each([1, 22, 65535])("GIVEN port %d THEN accepted, on the host or in defaults", (port) => {
    expect(accepted(host({ port })).port).toBe(port);
    expect(accepted({ ...host({}), defaults: { port } }).port).toBe(port);
  });

  it.each([0, 65536, -22, 22.5, "22"])("GIVEN port %j THEN refused", (port) => {
    expect(detailsOf(host({ port }))).toEqual([
      `hosts[0].port: expected a port number 1-65535, got ${JSON.stringify(port)}`,
    ]);
  });

  it("GIVEN a port on the host and in defaults THEN the host's wins; a user likewise", () => {
    const h = accepted({ ...host({ port: 2222, user: "root" }), defaults: { port: 22, user: "ubuntu" } });
    expect([h.port, h.user]).toEqual([2222, "root"]);
  });

  it.each(["10.0.0.1", "fe80::1%eth0", "[2001:db8::1]", "cache-a.example.com", "Cache_A", "a".repeat(253)])(
    "GIVEN address %j THEN accepted",
    (address) => {
      expect(accepted(host({ address })).address).toBe(address);
    },
  );

  it.each(["-oProxyCommand=x", "a b", "", "a;b", "a".repeat(254), "host/x"])(
    "GIVEN address %j THEN refused",
    (address) => {
      const shown =
        address.length > 78
          ? `${JSON.stringify(address).slice(0, 80)}… (${address.length + 2} characters)`
          : JSON.stringify(address);
      expect(detailsOf(host({ address }))).toEqual([
        `hosts[0].address: expected a host name, IP address or ssh Host alias (not starting with "-", no spaces), got ${shown}`,
      ]);
    },
  );

  it.each(["u".repeat(33), "1u", "-u", "Root"])("GIVEN user %j THEN refused", (user) => {
    expect(detailsOf(host({ user }))).toEqual([
      `hosts[0].user: expected a Linux user name (1-32 characters from [a-z0-9_-]), got ${JSON.stringify(user)}`,
    ]);
  });

  it("GIVEN a 32-character user THEN accepted", () => {
    expect(accepted(host({ user: "u".repeat(32) })).user).toBe("u".repeat(32));
  });

  it("GIVEN a 64-character label or a 254-character name THEN refused as a host name", () => {
    const rule = "expected an RFC 1123 host name (lower-case labels of [a-z0-9-]; it becomes node.name)";
    expect(detailsOf(host({ name: "a".repeat(64) }))).toEqual([
      `hosts[0].name: ${rule}, got "${"a".repeat(64)}"`,
    ]);
    const name254 = ["a".repeat(63), "b".repeat(63), "c".repeat(63), "d".repeat(62)].join(".");
    expect(detailsOf(host({ name: name254 }))).toEqual([
      `hosts[0].name: ${rule}, got ${JSON.stringify(name254).slice(0, 80)}… (256 characters)`,
    ]);
    expect(accepted(host({ name: "a".repeat(63) })).name).toBe("a".repeat(63));
  });

  it("GIVEN an empty spec path THEN refused, not read as the inventory's directory", () => {
    expect(detailsOf(host({ spec: "" }))).toEqual([
      'hosts[0].spec: expected a path to a render spec, got ""',
    ]);
    expect(detailsOf({ ...host({ spec: undefined }), defaults: { spec: "" } })).toEqual([
      'defaults.spec: expected a path to a render spec, got ""',
    ]);
  });

  it("GIVEN one host THEN accepted; hosts not a list THEN refused", () => {
    expect(parseInventory(host({}), join(dir, "i.yaml")).hosts).toHaveLength(1);
    expect(detailsOf({ version: 1, hosts: { name: "a" } })).toEqual([
      'hosts: expected a list of hosts, got {"name":"a"}',
    ]);
  });
});
