import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { adoptAddresses, describeOutcome } from "../../src/converge/adopt.js";
import { parseConfig } from "../../src/config/load.js";
import { describeFailure } from "../../src/cli/main.js";
import { FakeBackend } from "../helpers/fake-backend.js";
import { scratchDir } from "../helpers/scratch.js";

let dir = "";
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function setUp(attachments: unknown[]) {
  dir = scratchDir("hf-adopt-");
  const stateDir = join(dir, "state");
  const config = parseConfig({ version: 1, stateDir, attachments });
  const backend = new FakeBackend();
  const now = () => new Date("2026-11-26T10:00:00.000Z");
  return { config, backend, stateDir, now };
}

describe("adopt (seed the cache with the live address before the agent starts)", () => {
  it("caches a VLAN's dhclient lease under the agent's identity and stops its expiry", async () => {
    const { config, backend, stateDir, now } = setUp([
      { interface: "pn0", link: { kind: "vlan", vlanId: 3250 } },
    ]);
    backend.addLink("eth0", "52:54:00:00:00:01");
    backend.defaultRoute = "eth0";
    backend.addLink("pn0", "52:54:00:00:00:01", { kind: "vlan", vlanId: 3250, parent: "eth0" });
    backend.addresses.set("pn0", [{ cidr: "172.16.0.2/22", validLft: 8, preferredLft: 8 }]);
    // what listRoutes reports: the lease's routes, never the kernel's prefix route (test/net/route.test.ts)
    backend.routes.set("pn0", [{ dst: "10.0.0.0/8", via: "172.16.0.1" }]);

    const outcomes = await adoptAddresses(config, { backend, now });

    expect(outcomes.map(describeOutcome)).toEqual([
      "pn0: adopted 172.16.0.2/22 (cached; it no longer expires)",
    ]);
    expect(
      JSON.parse(readFileSync(join(stateDir, "pn0.json"), "utf8")),
      "the cache holds the lease under the VLAN identity (id 3250 on eth0's MAC)",
    ).toEqual({
      version: 1,
      interface: "pn0",
      identity: { kind: "vlan", vlanId: 3250, parentMac: "52:54:00:00:00:01" },
      cidr: "172.16.0.2/22",
      routes: [{ dst: "10.0.0.0/8", via: "172.16.0.1" }],
      source: "dhcp",
      server: null,
      leaseSeconds: null,
      discoveredAt: "2026-11-26T10:00:00.000Z",
    });
    expect(backend.ops, "the dhclient lease stops expiring").toEqual([
      "addr replace 172.16.0.2/22 dev pn0 valid_lft forever preferred_lft forever",
    ]);
    // a second run finds the cache and changes nothing
    expect((await adoptAddresses(config, { backend, now })).map(describeOutcome)).toEqual([
      "pn0: already cached (172.16.0.2/22)",
    ]);
    expect(backend.ops).toHaveLength(1);
  });

  it("adopts the live lease over an older cached address", async () => {
    const { config, backend, stateDir, now } = setUp([{ interface: "pn0" }]);
    backend.addLink("pn0", "52:54:00:00:00:02");
    backend.addresses.set("pn0", [{ cidr: "172.16.0.2/22", validLft: 8, preferredLft: 8 }]);
    await adoptAddresses(config, { backend, now });
    backend.addresses.set("pn0", [{ cidr: "172.16.0.9/22", validLft: 8, preferredLft: 8 }]);

    const outcomes = await adoptAddresses(config, { backend, now });

    expect(outcomes.map(describeOutcome)).toEqual([
      "pn0: adopted 172.16.0.9/22 (cached; it no longer expires)",
    ]);
    expect(
      JSON.parse(readFileSync(join(stateDir, "pn0.json"), "utf8")).cidr,
      "the live lease replaced the stale cache",
    ).toBe("172.16.0.9/22");
  });

  it("adopts nothing for a static attachment, a missing link or a link without an address", async () => {
    const { config, backend } = setUp([
      { interface: "pn0", address: { source: "static", cidr: "172.16.0.2/22" } },
      { interface: "pn1" },
      { interface: "pn2" },
    ]);
    backend.addLink("pn2", "52:54:00:00:00:02");
    backend.addresses.set("pn2", [{ cidr: "169.254.3.4/16", validLft: "forever", preferredLft: "forever" }]);
    const outcomes = await adoptAddresses(config, { backend });
    expect(outcomes.map(describeOutcome)).toEqual([
      "pn0: nothing to adopt (static in the config)",
      "pn1: nothing to adopt (no such interface)",
      "pn2: nothing to adopt (no address to adopt)",
    ]);
    expect(backend.ops, "nothing changes").toEqual([]);
  });

  it("sets aside a cache of another identity and adopts the live address", async () => {
    const { config, backend, stateDir } = setUp([{ interface: "pn0" }]);
    backend.addLink("pn0", "52:54:00:00:00:09");
    backend.addresses.set("pn0", [{ cidr: "198.18.0.10/22", validLft: "forever", preferredLft: "forever" }]);
    const other = {
      version: 1,
      interface: "pn0",
      identity: { kind: "existing", mac: "52:54:00:00:00:01" },
      cidr: "198.18.0.99/22",
      routes: [],
      source: "dhcp",
      server: null,
      leaseSeconds: null,
      discoveredAt: "2026-01-01T00:00:00.000Z",
    };
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(join(stateDir, "pn0.json"), JSON.stringify(other));
    const outcomes = await adoptAddresses(config, { backend });
    expect(outcomes.map(describeOutcome)).toEqual([
      "pn0: adopted 198.18.0.10/22 (cached; it no longer expires)",
    ]);
  });

  it("adopts nothing when one interface's route cannot be cached, and says why", async () => {
    const { config, backend, stateDir, now } = setUp([{ interface: "pn0" }, { interface: "pn1" }]);
    backend.addLink("pn0", "52:54:00:00:00:01");
    backend.addLink("pn1", "52:54:00:00:00:02");
    backend.addresses.set("pn0", [{ cidr: "198.18.0.10/22", validLft: 8, preferredLft: 8 }]);
    backend.addresses.set("pn1", [{ cidr: "198.18.4.10/22", validLft: 8, preferredLft: 8 }]);
    // a route shape net/route.ts would never produce: the cache schema refuses it
    backend.routes.set("pn1", [{ dst: "169.254.169.300/32", via: "198.18.4.1" }]);

    const failed = await adoptAddresses(config, { backend, now }).catch((error: unknown) => error);

    expect(describeFailure(failed)).toBe(
      `holdfast: refusing to write an invalid cache entry: ${join(stateDir, "pn1.json")}\n` +
        '  routes[0].dst: expected an IPv4 CIDR like "172.16.0.2/22", got "169.254.169.300/32"',
    );
    expect(existsSync(join(stateDir, "pn0.json")), "pn0 cached although pn1 failed").toBe(false);
    expect(backend.ops, "an address lifetime changed although adoption failed").toEqual([]);
  });
});
