import { describe, expect, it } from "vitest";
import { Netns } from "../../src/harness/netns.js";
import { uniquePrefix } from "../helpers/topology.js";

describe("Netns.spawn without `ip`", () => {
  it("GIVEN no ip on PATH WHEN spawning THEN it throws a plain error and no 'error' event goes unheard", async () => {
    // adopt makes nothing; the spawn fails before any namespace is entered
    const ns = Netns.adopt(`${uniquePrefix("n")}-none`);
    expect(() => ns.spawn("true", [], { env: { PATH: "/nonexistent" } })).toThrow(
      `could not start true in namespace ${ns.name}: \`ip netns exec\` did not start`,
    );
    // the 'error' event arrives after spawn returned; an unheard one would fail this file
    await new Promise((resolve) => setTimeout(resolve, 50));
  });
});
