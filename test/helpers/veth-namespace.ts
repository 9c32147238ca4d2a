import { afterAll, beforeAll, beforeEach, expect } from "vitest";
import { Netns } from "../../src/harness/netns.js";

/**
 * vitest hooks: one namespace for the whole file with `pn0` (one end of a veth pair, both
 * inside it: no dummy module on every kernel, nothing outside it), flushed before each test and
 * destroyed in afterAll even when tests fail. Read `.current` inside tests.
 */
export function useVethNamespace(name: string): { readonly current: Netns } {
  let ns: Netns | undefined;
  beforeAll(async () => {
    ns = await Netns.create(name);
    const add = await ns.exec("ip", ["link", "add", "pn0", "type", "veth", "peer", "name", "pn0peer"]);
    expect(add.code, add.stderr).toBe(0);
    await ns.exec("ip", ["link", "set", "pn0peer", "up"]);
    await ns.exec("ip", ["link", "set", "pn0", "up"]);
  });
  afterAll(async () => {
    await ns?.destroy();
  });
  beforeEach(async () => {
    await ns?.exec("ip", ["addr", "flush", "dev", "pn0"]);
  });
  return {
    get current(): Netns {
      if (ns === undefined) throw new Error("namespace not made (beforeAll failed?)");
      return ns;
    },
  };
}
