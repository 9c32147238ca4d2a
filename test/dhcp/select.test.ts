import { describe, expect, it } from "vitest";
import { HoldfastError } from "../../src/errors.js";
import type { DhcpAdapter } from "../../src/dhcp/lease.js";
import { getAdapter, type AdapterFactories, type DhcpClientName } from "../../src/dhcp/select.js";

const NAMES: readonly DhcpClientName[] = ["udhcpc", "dhcpcd", "dhclient"];

/** Adapters that are installed exactly when named in `installed`; records the order of probes. */
function fakeClients(installed: readonly DhcpClientName[]): {
  factories: AdapterFactories;
  probed: string[];
} {
  const probed: string[] = [];
  const make = (name: DhcpClientName) => (): DhcpAdapter => ({
    name,
    available: () => {
      probed.push(name);
      return Promise.resolve(installed.includes(name));
    },
    discover: () => Promise.reject(new Error("not in this test")),
  });
  const factories = Object.fromEntries(NAMES.map((n) => [n, make(n)])) as unknown as AdapterFactories;
  return { factories, probed };
}

async function errorOf(attempt: Promise<unknown>): Promise<HoldfastError> {
  const error = await attempt.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HoldfastError);
  return error as HoldfastError;
}

const INSTALL_HINT =
  "install one of busybox (udhcpc), dhcpcd-base (dhcpcd) or isc-dhcp-client (dhclient), or set address.dhcpClient to one that is installed";

describe("DHCP client selection", () => {
  it.each([
    { installed: ["udhcpc", "dhcpcd", "dhclient"], chosen: "udhcpc", probed: ["udhcpc"] },
    { installed: ["dhcpcd", "dhclient"], chosen: "dhcpcd", probed: ["udhcpc", "dhcpcd"] },
    { installed: ["dhclient"], chosen: "dhclient", probed: ["udhcpc", "dhcpcd", "dhclient"] },
  ] as const)(
    "GIVEN auto and $installed installed THEN $chosen (smallest footprint first)",
    async ({ installed, chosen, probed }) => {
      const fake = fakeClients(installed);
      expect((await getAdapter("auto", { factories: fake.factories })).name).toBe(chosen);
      expect(fake.probed).toEqual(probed);
    },
  );

  it("GIVEN a client by name THEN that adapter, even when others come first in auto's order", async () => {
    const fake = fakeClients(NAMES);
    expect((await getAdapter("dhclient", { factories: fake.factories })).name).toBe("dhclient");
    expect(fake.probed).toEqual(["dhclient"]);
  });

  it("GIVEN auto and no client installed THEN a failure naming every client and what to install", async () => {
    const error = await errorOf(getAdapter("auto", { factories: fakeClients([]).factories }));
    expect(error.message).toBe("no DHCP client installed: udhcpc, dhcpcd, dhclient");
    expect(error.details).toEqual([INSTALL_HINT]);
    expect(error.exitCode).toBe(1);
  });

  it("GIVEN a named client that is missing THEN a failure naming it, even when another one is installed", async () => {
    const error = await errorOf(
      getAdapter("dhcpcd", { factories: fakeClients(["udhcpc", "dhclient"]).factories }),
    );
    expect(error.message).toBe("DHCP client not installed: dhcpcd");
    expect(error.details).toEqual([INSTALL_HINT]);
    expect(error.exitCode).toBe(1);
  });

  it("GIVEN the real adapters THEN a client asked for by name is that client's adapter, or not installed", async () => {
    // what is installed depends on the machine; either outcome must be about the named client
    for (const name of NAMES) {
      const outcome = await getAdapter(name).then(
        (adapter) => adapter.name,
        (error: unknown) => (error instanceof HoldfastError ? error.message : String(error)),
      );
      expect([name, `DHCP client not installed: ${name}`]).toContain(outcome);
    }
  });
});
