import { describe, expect, it } from "vitest";
import { ensureLink, resolveParent } from "../../src/net/link.js";
import { FakeBackend } from "../helpers/fake-backend.js";

const vlan = (parent: string) => ({ kind: "vlan" as const, parent, vlanId: 3250 });
const physical = (names: string[]) => (name: string) => names.includes(name);

describe("ensureLink (vlan)", () => {
  it("creates the VLAN on the default-route interface and sets it up, in that order", async () => {
    const backend = new FakeBackend();
    backend.addLink("lo", "00:00:00:00:00:00");
    backend.addLink("eno1", "aa:bb:cc:00:00:01");
    backend.defaultRoute = "eno1";
    const outcome = await ensureLink("pn0", vlan("auto"), {
      backend,
      pnInterfaces: ["pn0"],
      isPhysical: physical(["eno1"]),
    });
    expect(backend.ops).toEqual(["link add link eno1 name pn0 type vlan id 3250", "link set dev pn0 up"]);
    expect(outcome).toMatchObject({ kind: "ready", created: true, parent: { name: "eno1" } });
  });

  it("picks the first physical NIC that is not a PN when there is no default route", async () => {
    const backend = new FakeBackend();
    backend.addLink("pn1", "aa:bb:cc:00:00:09");
    backend.addLink("veth0", "aa:bb:cc:00:00:02");
    backend.addLink("enp2s0", "aa:bb:cc:00:00:03");
    const parent = await resolveParent(vlan("auto"), {
      backend,
      pnInterfaces: ["pn0", "pn1"],
      isPhysical: physical(["pn1", "enp2s0"]),
    });
    expect(parent?.name).toBe("enp2s0");
  });

  it("never takes another PN as parent, even if it carries the default route", async () => {
    const backend = new FakeBackend();
    backend.addLink("pn1", "aa:bb:cc:00:00:09");
    backend.addLink("eno1", "aa:bb:cc:00:00:01");
    backend.defaultRoute = "pn1";
    const parent = await resolveParent(vlan("auto"), {
      backend,
      pnInterfaces: ["pn0", "pn1"],
      isPhysical: physical(["eno1"]),
    });
    expect(parent?.name).toBe("eno1");
  });

  it("uses a named parent and does nothing when the VLAN is already up", async () => {
    const backend = new FakeBackend();
    backend.addLink("eno2", "aa:bb:cc:00:00:02");
    backend.addLink("pn0", "aa:bb:cc:00:00:02", { kind: "vlan", vlanId: 3250, parent: "eno2" });
    const outcome = await ensureLink("pn0", vlan("eno2"), { backend, pnInterfaces: ["pn0"] });
    expect(backend.ops).toEqual([]);
    expect(outcome).toMatchObject({ kind: "ready", created: false });
  });

  it("waits, changing nothing, when the named parent is missing", async () => {
    const backend = new FakeBackend();
    const outcome = await ensureLink("pn0", vlan("eno9"), { backend, pnInterfaces: ["pn0"] });
    expect(outcome).toEqual({ kind: "waiting", why: "parent eno9 missing" });
    expect(backend.ops).toEqual([]);
  });

  it("re-creates the VLAN after it was deleted", async () => {
    const backend = new FakeBackend();
    backend.addLink("eno1", "aa:bb:cc:00:00:01");
    backend.defaultRoute = "eno1";
    const ctx = { backend, pnInterfaces: ["pn0"], isPhysical: physical(["eno1"]) };
    await ensureLink("pn0", vlan("auto"), ctx);
    backend.deleteLink("pn0");
    await ensureLink("pn0", vlan("auto"), ctx);
    expect(backend.ops.filter((op) => op.startsWith("link add"))).toHaveLength(2);
  });
});

describe("ensureLink (existing)", () => {
  it("waits for the interface to appear, then sets it up", async () => {
    const backend = new FakeBackend();
    expect(await ensureLink("pn0", { kind: "existing" }, { backend, pnInterfaces: ["pn0"] })).toEqual({
      kind: "waiting",
      why: "interface does not exist",
    });
    backend.addLink("pn0", "02:00:00:00:00:01", { up: false });
    const outcome = await ensureLink("pn0", { kind: "existing" }, { backend, pnInterfaces: ["pn0"] });
    expect(backend.ops).toEqual(["link set dev pn0 up"]);
    expect(outcome).toMatchObject({ kind: "ready", state: { link: { up: true } } });
  });
});
