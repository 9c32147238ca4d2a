import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  DHCLIENT_SCRIPT,
  dhclientCommand,
  labDhclientConf,
  prepareDhclientSandbox,
} from "../../src/lab/impls/dhclient-sandbox.js";
import { scratchDir } from "../helpers/scratch.js";

// dhclient run in the sandbox, in namespaces: dhclient-sandbox.ns.test.ts
const dir = scratchDir("hfsbx-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("dhclient sandbox", () => {
  it("builds dhclient's command over the lab's dirs, config and Debian's script", async () => {
    const sandbox = await prepareDhclientSandbox(join(dir, "cfg"), join(dir, "state"));
    const cmd = dhclientCommand(sandbox, ["-d", "pn0"]);
    expect(cmd.file).toBe("unshare");
    expect(cmd.args.slice(0, 6)).toEqual(["--mount", "--uts", "--propagation", "private", "sh", "-c"]);
    expect(cmd.args[6], "the lab's dirs bound over /etc/dhcp and /var/lib/dhcp").toBe(
      'mount --bind "$1" /etc/dhcp && mount --bind "$2" /var/lib/dhcp && shift 2 && exec "$@"',
    );
    expect(cmd.args.slice(7), "the lab's config and Debian's script").toEqual([
      "dhclient-sandbox",
      sandbox.etcDir,
      sandbox.varDir,
      "dhclient",
      "-cf",
      sandbox.conf,
      "-sf",
      DHCLIENT_SCRIPT,
      "-d",
      "pn0",
    ]);
    expect(readdirSync(join(sandbox.etcDir, "dhclient-exit-hooks.d"))).toEqual(["rfc3442-classless-routes"]);
    expect(readdirSync(join(sandbox.etcDir, "dhclient-enter-hooks.d"))).toEqual([]);
  });

  it("GIVEN the lab's dhclient.conf THEN it declares option 121 and requests it with Debian's list", () => {
    const conf = labDhclientConf();
    expect(conf).toContain("option rfc3442-classless-static-routes code 121 = array of unsigned integer 8;");
    expect(conf).toMatch(
      /request subnet-mask,[^;]*routers,[^;]*rfc3442-classless-static-routes, ntp-servers;/,
    );
  });
});
