import { chmodSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { adoptAddresses, describeOutcome } from "../../src/converge/adopt.js";
import { Netns } from "../../src/harness/netns.js";
import { Iproute2Backend } from "../../src/net/iproute2.js";
import { runChecked, run } from "../../src/util/exec.js";
import { skipUnlessRoot } from "../helpers/root.js";
import { scratchDir } from "../helpers/scratch.js";

const skip = skipUnlessRoot(import.meta.url, "a namespace with the kernel's own routes");

describe.skipIf(skip)("adopt reads the lease's routes as the kernel prints them", () => {
  let ns: Netns;
  let dir: string;
  const ip = (args: string[]) => runChecked(run, "ip", ["-n", ns.name, ...args], { timeoutMs: 10_000 });

  beforeAll(async () => {
    ns = await Netns.create(`hfar${process.pid}`);
    dir = scratchDir("hf-adopt-routes-");
    await ip(["link", "add", "pn0", "type", "veth", "peer", "name", "pn0p"]);
    await ip(["link", "set", "pn0", "up"]);
    await ip(["link", "set", "pn0p", "up"]);
    // what a dhclient lease with option 121 and a router leaves behind
    await ip(["addr", "add", "198.18.0.10/22", "dev", "pn0", "valid_lft", "30", "preferred_lft", "30"]);
    await ip([
      "route",
      "add",
      "169.254.169.254/32",
      "via",
      "198.18.0.1",
      "dev",
      "pn0",
      "proto",
      "dhcp",
      "metric",
      "1024",
    ]);
    await ip([
      "route",
      "add",
      "default",
      "via",
      "198.18.0.1",
      "dev",
      "pn0",
      "proto",
      "dhcp",
      "metric",
      "1024",
    ]);
    await ip(["route", "add", "198.19.0.0/16", "dev", "pn0", "scope", "link", "proto", "boot"]);
  });

  afterAll(async () => {
    await ns?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it("caches a host route, the default route and a link-scope route, and holds the address", async () => {
    // the backend's `ip`, pointed into the test's namespace
    const wrapper = join(dir, "ip");
    writeFileSync(wrapper, `#!/bin/sh\nexec ip -n ${ns.name} "$@"\n`);
    chmodSync(wrapper, 0o755);
    const backend = new Iproute2Backend(undefined, wrapper);
    const stateDir = join(dir, "state");
    const config = parseConfig({
      version: 1,
      stateDir,
      attachments: [{ interface: "pn0", link: { kind: "existing" } }],
    });
    try {
      const outcomes = await adoptAddresses(config, { backend });
      expect(outcomes.map(describeOutcome)).toEqual([
        "pn0: adopted 198.18.0.10/22 (cached; it no longer expires)",
      ]);
    } finally {
      backend.close();
    }
    const cached = JSON.parse(readFileSync(join(stateDir, "pn0.json"), "utf8")) as { routes: unknown[] };
    expect(cached.routes).toEqual([
      { dst: "default", via: "198.18.0.1", metric: 1024 },
      { dst: "169.254.169.254/32", via: "198.18.0.1", metric: 1024 },
      { dst: "198.19.0.0/16" },
    ]);
    const shown = await ip(["-4", "addr", "show", "dev", "pn0"]);
    expect(shown, "the adopted address stops expiring").toMatch(/valid_lft forever preferred_lft forever/);
  });
});
