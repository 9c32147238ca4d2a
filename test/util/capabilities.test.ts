import { describe, expect, it } from "vitest";
import { CAP_SYS_ADMIN, hasEffectiveCapability } from "../../src/util/capabilities.js";

const status = (capEff: string): string =>
  `Name:\tnode\nCapInh:\t0000000000000000\nCapEff:\t${capEff}\nCapBnd:\t000001ffffffffff\n`;

describe("hasEffectiveCapability", () => {
  it("GIVEN root's full set THEN CAP_SYS_ADMIN is held", () => {
    expect(hasEffectiveCapability(CAP_SYS_ADMIN, status("000001ffffffffff"))).toBe(true);
  });

  it("GIVEN the hardened unit's set THEN CAP_SYS_ADMIN is not held", () => {
    // bits 12, 13, 10, 7, 6, 18
    const bits = [12, 13, 10, 7, 6, 18].reduce((sum, bit) => sum | (BigInt(1) << BigInt(bit)), BigInt(0));
    const hex = bits.toString(16).padStart(16, "0");
    expect(
      hasEffectiveCapability(CAP_SYS_ADMIN, status(hex)),
      "NET_ADMIN, NET_RAW, NET_BIND_SERVICE, SETUID, SETGID, SYS_CHROOT hold no CAP_SYS_ADMIN",
    ).toBe(false);
    expect(hasEffectiveCapability(12, status(hex)), "CAP_NET_ADMIN is in the set").toBe(true);
  });

  it("only the effective set counts, and a status without CapEff means no", () => {
    expect(hasEffectiveCapability(CAP_SYS_ADMIN, "CapBnd:\t000001ffffffffff\n")).toBe(false);
    expect(hasEffectiveCapability(CAP_SYS_ADMIN, status("0000000000000000"))).toBe(false);
  });

  it("reads this process's own status when none is given", () => {
    const root = process.getuid?.() === 0;
    // a root test run has everything; anyone else has an empty effective set
    expect(hasEffectiveCapability(CAP_SYS_ADMIN)).toBe(root);
  });
});
