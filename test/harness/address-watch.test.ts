import { describe, expect, it } from "vitest";
import { AddressWatch } from "../../src/harness/address-watch.js";
import { Netns } from "../../src/harness/netns.js";
import type { LabNode } from "../../src/harness/topology.js";

describe("AddressWatch", () => {
  it("rejects with a plain error when ip is not on PATH", async () => {
    const ns = Netns.adopt("hfaw-none");
    const node = { ns, ifname: "pn0", ip: "198.18.0.10", cidr: "198.18.0.10/22" } as unknown as LabNode;
    const path = process.env.PATH;
    process.env.PATH = "/nonexistent";
    let started: Promise<void>;
    try {
      started = new AddressWatch(node).start(); // spawns synchronously, before its first await
    } finally {
      process.env.PATH = path;
    }
    await expect(started, "a plain rejection, not an unheard 'error' event").rejects.toThrow(
      "ip monitor for hfaw-none: spawn ip ENOENT",
    );
  });
});
