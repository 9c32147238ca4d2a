import { describe, expect, it } from "vitest";
import { planHost } from "../../src/converge/plan.js";
import { parseProbe } from "../../src/converge/probe.js";
import { LEASE_ADDR, STATIC_ADDR, desiredFor, probeOutput, type ProbeFixture } from "./fixtures.js";

const desired = desiredFor("cache-a");
const plan = (f: ProbeFixture) => planHost(parseProbe(probeOutput(f), ["pn0"]), desired);

describe("plan", () => {
  it("GIVEN a node with nothing of holdfast and the old dhclient holding pn0 THEN install, adopting the lease", () => {
    expect(plan({ addr: LEASE_ADDR, dhclient: "312:dhclient-pn0.service" })).toEqual({
      kind: "install",
      reasons: [
        `holdfast not installed: install ${desired.version}`,
        "pn0: 172.16.0.2/22 held by dhclient pid 312 (dhclient-pn0.service); adopt it, then disable dhclient-pn0.service and kill its dhclient without a release",
      ],
      adopt: [{ interface: "pn0", cidr: "172.16.0.2/22", from: "dhclient pid 312 (dhclient-pn0.service)" }],
      blockers: [],
    });
  });

  it("GIVEN ifupdown's dhclient holding pn0 THEN the dry run says the stanza goes to manual with a backup and its dhclient is killed, not networking.service disabled", () => {
    expect(
      plan({ addr: LEASE_ADDR, dhclient: "77:networking.service", ifupdown: "/etc/network/interfaces" })
        .reasons,
    ).toEqual([
      `holdfast not installed: install ${desired.version}`,
      'pn0: 172.16.0.2/22 held by dhclient pid 77 (networking.service); adopt it, set "iface pn0 inet dhcp" to manual in /etc/network/interfaces (backup beside it), then kill its dhclient without a release',
    ]);
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
