import { describe, expect, it } from "vitest";
import { parseMonitorLine } from "../../src/net/monitor.js";

describe("parseMonitorLine", () => {
  it("reads an address deletion with its CIDR", () => {
    expect(
      parseMonitorLine(
        "Deleted 3: pn0    inet 198.18.0.10/22 scope global pn0\\       valid_lft forever preferred_lft forever",
      ),
    ).toMatchObject({
      kind: "address",
      interface: "pn0",
      deleted: true,
      address: "198.18.0.10/22",
      permanent: true,
    });
  });

  it("tells a held (permanent) address from a leased one", () => {
    const leased =
      "3: pn0    inet 198.18.0.10/22 brd 198.18.3.255 scope global dynamic pn0\\       valid_lft 9sec preferred_lft 9sec";
    expect(parseMonitorLine(leased)).toMatchObject({
      deleted: false,
      address: "198.18.0.10/22",
      permanent: false,
    });
  });

  it("reads a link line with a peer suffix", () => {
    expect(
      parseMonitorLine("5: pn0@if4: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN"),
    ).toMatchObject({
      kind: "link",
      interface: "pn0",
      deleted: false,
    });
  });

  it("reads the device of a route line", () => {
    expect(
      parseMonitorLine("Deleted 198.18.0.0/22 dev pn0 proto kernel scope link src 198.18.0.10 "),
    ).toMatchObject({
      kind: "route",
      interface: "pn0",
      deleted: true,
    });
  });

  it("ignores blank lines and never mistakes an IPv6 address for the held one", () => {
    expect(parseMonitorLine("")).toBeUndefined();
    expect(parseMonitorLine("Deleted 3: pn0    inet6 fe80::1/64 scope link")?.address).toBeUndefined();
  });

  it("reads an `ip -ts` stamp as UTC epoch ms, keeping the microseconds", () => {
    const event = parseMonitorLine(
      "[2026-11-26T10:00:58.746322] Deleted 3: pn0    inet 198.18.0.10/22 scope global pn0\\       valid_lft forever preferred_lft forever",
    );
    expect(event).toMatchObject({
      kind: "address",
      interface: "pn0",
      deleted: true,
      address: "198.18.0.10/22",
    });
    expect(event?.at).toBeCloseTo(Date.parse("2026-11-26T10:00:58.746Z") + 0.322, 6);
    const added = parseMonitorLine(
      "[2026-11-26T10:00:58.738116] 3: pn0    inet 198.18.0.10/22 scope global dynamic pn0",
    );
    expect(added).toMatchObject({ deleted: false, address: "198.18.0.10/22", permanent: false });
    expect(
      parseMonitorLine("[2026-11-26T10:00:58.738116] 3: pn0    inet6 fe80::1/64 scope link")?.address,
    ).toBeUndefined();
  });
});
