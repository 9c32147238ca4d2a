import { describe, expect, it } from "vitest";
import { planHost } from "../../src/converge/plan.js";
import { parseProbe } from "../../src/converge/probe.js";
import { LEASE_ADDR, STATIC_ADDR, desiredFor, probeOutput, type ProbeFixture } from "./fixtures.js";

const desired = desiredFor("cache-a");
const plan = (f: ProbeFixture) => planHost(parseProbe(probeOutput(f), ["pn0"]), desired);

describe("plan", () => {
  it("installs on a dhclient node, adopting its lease", () => {
    expect(
      plan({ addr: LEASE_ADDR, dhclient: "312:dhclient-pn0.service" }),
      "nothing of holdfast, the old dhclient holding pn0: install and adopt the lease",
    ).toEqual({
      kind: "install",
      reasons: [
        `holdfast not installed: install ${desired.version}`,
        "pn0: 172.16.0.2/22 held by dhclient pid 312 (dhclient-pn0.service); adopt it, then disable dhclient-pn0.service and kill its dhclient without a release",
      ],
      adopt: [{ interface: "pn0", cidr: "172.16.0.2/22", from: "dhclient pid 312 (dhclient-pn0.service)" }],
      blockers: [],
    });
  });

  it("plans ifupdown's stanza to manual with a backup, killing its dhclient", () => {
    expect(
      plan({ addr: LEASE_ADDR, dhclient: "77:networking.service", ifupdown: "/etc/network/interfaces" })
        .reasons,
    ).toEqual([
      `holdfast not installed: install ${desired.version}`,
      'pn0: 172.16.0.2/22 held by dhclient pid 77 (networking.service); adopt it, set "iface pn0 inet dhcp" to manual in /etc/network/interfaces (backup beside it), then kill its dhclient without a release',
    ]);
  });

  it("takes pn0 alone from a dhcpcd manager serving every interface: deny it, keep the unit", () => {
    const planned = plan({ addr: LEASE_ADDR, dhcpcdManager: "96:dhcpcd.service" });
    expect(planned.reasons).toEqual([
      `holdfast not installed: install ${desired.version}`,
      'pn0: 172.16.0.2/22 held by dhcpcd manager pid 96 (dhcpcd.service), serving every interface; adopt it, add "denyinterfaces pn0" to /etc/dhcpcd.conf (backup beside it), then tell dhcpcd pid 96 to let go of pn0 without a release (-p -x pn0); dhcpcd.service keeps serving the other interfaces',
    ]);
    expect(planned.adopt).toEqual([
      {
        interface: "pn0",
        cidr: "172.16.0.2/22",
        from: "dhcpcd manager pid 96 (dhcpcd.service), serving every interface",
      },
    ]);
    expect(planned.reasons.join(" "), "the shared unit is never disabled").not.toMatch(/disable/);
  });

  it("GIVEN a per-interface dhcpcd unit THEN its unit is disabled, not the manager's takeover", () => {
    expect(
      planHost(
        parseProbe(
          probeOutput({ addr: LEASE_ADDR }).replace("if.pn0.dhcpcd=", "if.pn0.dhcpcd=80:pn-dhcpcd.service"),
          ["pn0"],
        ),
        desired,
      ).reasons[1],
    ).toBe(
      "pn0: 172.16.0.2/22 held by dhcpcd pid 80 (pn-dhcpcd.service); adopt it, then disable pn-dhcpcd.service and kill its dhcpcd without a release",
    );
  });

  it("GIVEN exactly the rendered files, the unit active and pn0 held THEN unchanged", () => {
    expect(plan({ installed: desired, addr: STATIC_ADDR, held: "172.16.0.2/22" })).toEqual({
      kind: "unchanged",
      reasons: [`holdfast ${desired.version} holds pn0`],
      adopt: [],
      blockers: [],
    });
  });

  it("GIVEN another bundle THEN upgrade; another config THEN reconfigure; a stopped unit THEN reconfigure", () => {
    const old = { ...desired, bundleSha256: "0".repeat(64) };
    expect(plan({ installed: old, addr: STATIC_ADDR, held: "172.16.0.2/22" })).toMatchObject({
      kind: "upgrade",
      reasons: [
        `bundle 000000000000 → ${desired.bundleSha256!.slice(0, 12)} (same version ${desired.version})`,
      ],
    });
    // a node confirming every 10 minutes, or holding against the server, is another config
    for (const address of [{ confirmInterval: "10m" }, { onReassign: "hold" }, { confirmInterval: "off" }]) {
      const installed = desiredFor("cache-a", "30s", address);
      expect(
        plan({ installed, addr: STATIC_ADDR, held: "172.16.0.2/22" }),
        JSON.stringify(address),
      ).toMatchObject({
        kind: "reconfigure",
        reasons: ["config differs"],
      });
    }
    const otherConfig = desiredFor("cache-a", "20s");
    expect(plan({ installed: otherConfig, addr: STATIC_ADDR, held: "172.16.0.2/22" })).toMatchObject({
      kind: "reconfigure",
      reasons: ["config differs"],
    });
    expect(plan({ installed: desired, addr: STATIC_ADDR, serviceActive: "failed" })).toMatchObject({
      kind: "reconfigure",
      reasons: ["holdfast.service is failed, enabled", "pn0: 172.16.0.2/22 (static, no client); adopt it"],
    });
  });

  it("GIVEN no root, or an old Node.js THEN a blocker, or a reason the script handles", () => {
    expect(plan({ root: "no" }).blockers).toEqual([
      "needs root: ssh as root or as a user with passwordless sudo",
    ]);
    expect(plan({ node: "v12.22.12" }).reasons).toContain(
      "Node.js v12.22.12: the script installs the distribution's nodejs (needs >= 18)",
    );
    expect(plan({ exists: false }).reasons).toContain("pn0: does not exist yet (the agent creates the VLAN)");
  });
});
