/**
 * The `vlan` link kind for real, where the kernel has 802.1Q. The fake-backend unit tests
 * (link.test.ts) check the exact operations everywhere; this proves them on a kernel.
 */
import { describe, expect, it } from "vitest";
import { Netns } from "../../src/harness/netns.js";
import { isRoot, skipUnlessRoot } from "../helpers/root.js";
import { skipWhen } from "../helpers/skip.js";
import { runAgent, waitFor } from "../helpers/agent-process.js";

async function vlanSupport(): Promise<string | undefined> {
  const ns = await Netns.create(`hfvq${process.pid}`);
  try {
    await ns.exec("ip", ["link", "add", "eth9", "type", "veth", "peer", "name", "eth9p"]);
    const probe = await ns.exec("ip", [
      "link",
      "add",
      "link",
      "eth9",
      "name",
      "vq0",
      "type",
      "vlan",
      "id",
      "7",
    ]);
    return probe.code === 0 ? undefined : probe.stderr.trim() || `exit ${probe.code}`;
  } finally {
    await ns.destroy();
  }
}

const unsupported = isRoot ? await vlanSupport() : undefined;
const skip =
  skipUnlessRoot(import.meta.url, "VLAN creation in a namespace") ||
  skipWhen(
    import.meta.url,
    unsupported === undefined ? undefined : `this kernel cannot create 802.1Q VLANs (${unsupported})`,
  );

describe.skipIf(skip)("vlan link kind on a real kernel", () => {
  it("creates the VLAN on the default-route NIC, holds the address, re-creates it after deletion", async () => {
    const ns = await Netns.create(`hfvl${process.pid}`);
    try {
      await ns.exec("ip", ["link", "add", "eth0", "type", "veth", "peer", "name", "eth0p"]);
      for (const dev of ["eth0", "eth0p"]) await ns.exec("ip", ["link", "set", dev, "up"]);
      await ns.exec("ip", ["addr", "add", "198.18.8.2/24", "dev", "eth0"]);
      await ns.exec("ip", ["route", "add", "default", "via", "198.18.8.1"]);
      const agent = runAgent(ns, {
        attachments: [
          {
            interface: "pn0",
            link: { kind: "vlan", parent: "auto", vlanId: 3250 },
            address: { source: "static", cidr: "198.18.4.2/22" },
          },
        ],
      });
      try {
        await agent.waitLog(/^pn0: held /);
        const details = (await ns.exec("ip", ["-d", "link", "show", "pn0"])).stdout;
        expect(details).toMatch(/pn0@eth0/);
        expect(details).toMatch(/vlan protocol 802\.1Q id 3250/);
        await ns.exec("ip", ["link", "del", "pn0"]);
        await waitFor("VLAN re-created with its address", async () =>
          (await ns.exec("ip", ["-o", "-4", "addr", "show", "dev", "pn0"])).stdout.includes("198.18.4.2/22"),
        );
      } finally {
        await agent.stop();
      }
    } finally {
      await ns.destroy();
    }
  });
});
