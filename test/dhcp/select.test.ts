import { describe, expect, it } from "vitest";
import { AUTO_ORDER, getAdapter } from "../../src/dhcp/select.js";

describe("DHCP client selection", () => {
  it("GIVEN auto THEN the order is udhcpc, dhcpcd, dhclient", () => {
    expect(AUTO_ORDER).toEqual(["udhcpc", "dhcpcd", "dhclient"]);
  });

  it("GIVEN each client by name THEN that adapter", async () => {
    for (const name of AUTO_ORDER) {
      const adapter = await getAdapter(name);
      expect(adapter.name).toBe(name);
    }
  });

  it("GIVEN auto on a machine with busybox THEN udhcpc", async () => {
    expect((await getAdapter("auto")).name).toBe("udhcpc");
  });
});
