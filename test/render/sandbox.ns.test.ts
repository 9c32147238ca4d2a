import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { renderFragmentFromSpec, renderScriptFromSpec } from "../../src/render/fragment.js";
import { NODE_PATHS } from "../../src/render/paths.js";
import { skipUnlessRoot } from "../helpers/root.js";
import { fakeBundle, fixtureSpec } from "./helpers.js";
import { Sandbox } from "./sandbox.js";

const skip = skipUnlessRoot(import.meta.url, "mount, pid and net namespaces");

describe.skipIf(skip)("the install script, run in a sandbox", () => {
  const spec = fixtureSpec("kura-cache-7");
  const script = renderScriptFromSpec(spec, fakeBundle());
  let sandbox: Sandbox;
  beforeEach(() => {
    sandbox = new Sandbox();
  });
  afterEach(() => sandbox.dispose());

  it("installs, starts and reports held; a second run changes nothing and says so", () => {
    // WHEN the script runs on a fresh node
    const first = sandbox.run(script);
    // THEN it installs the files, enables and starts the unit, and reports the held address
    expect(first.stderr).toContain("changed: /etc/holdfast/holdfast.yaml");
    expect(first.stdout).toMatch(
      /^holdfast: kura-cache-7: held pn0 198\.18\.0\.2\/22 \(holdfast \S+, \d+ changes\)\n$/,
    );
    expect(first.status).toBe(0);
    expect(sandbox.calls()).toContain("systemctl enable --now --quiet holdfast.service");
    expect(sandbox.written(NODE_PATHS.config)).toContain("vlanId: 3250");
    expect(sandbox.written(NODE_PATHS.unit)).toContain("ExecStart=/usr/local/bin/holdfast agent");
    expect(sandbox.written(NODE_PATHS.bundle)).toBe(fakeBundle().content.toString());

    // WHEN it runs again
    const callsBefore = sandbox.calls().length;
    const second = sandbox.run(script);
    // THEN nothing changes, nothing restarts, and the result line says so
    expect(second.stdout).toMatch(
      /^holdfast: kura-cache-7: held pn0 198\.18\.0\.2\/22 \(holdfast \S+, no changes\)\n$/,
    );
    expect(second.stderr).not.toContain("changed:");
    const again = sandbox.calls().slice(callsBefore);
    expect(again.filter((c) => /systemctl (enable|restart|daemon-reload|start)/.test(c))).toEqual([]);
  });

  it("as a non-root bootstrap user it goes through sudo", () => {
    const r = sandbox.run(script, { uid: 1000 });
    expect(r.status).toBe(0);
    expect(sandbox.calls()).toContain("sudo -n -- systemctl enable --now --quiet holdfast.service");
  });

  it("retires a running dhclient for pn0: lease made permanent first, then SIGKILL, never a release", () => {
    const r = sandbox.run(script, { dhclient: true });
    expect(r.status).toBe(0);
    const calls = sandbox.calls();
    const seed = calls.indexOf(
      "ip addr change 198.18.0.2/22 dev pn0 valid_lft forever preferred_lft forever",
    );
    const kill = calls.findIndex((c) => /^kill -KILL \d+$/.test(c));
    // frozen before the lease is made permanent: it can neither renew nor expire it meanwhile
    const freeze = calls.findIndex((c) => /^kill -STOP \d+$/.test(c));
    expect(seed).toBeGreaterThanOrEqual(0);
    expect(freeze, calls.join("\n")).toBeGreaterThanOrEqual(0);
    expect(freeze).toBeLessThan(seed);
    expect(kill).toBeGreaterThan(seed);
    expect(calls.join("\n")).not.toMatch(/dhclient -r|dhclient -x|systemctl stop/);
  });

  it("when adopt fails it stops no client, starts nothing, and says the node was left as it was", () => {
    const r = sandbox.run(script, { dhclient: true, adoptFails: true });
    expect(r.status).toBe(1);
    // the reason, as adopt printed it, one line per field
    expect(r.stderr).toContain('  routes[0].dst: expected an IPv4 CIDR like "172.16.0.2/22", got "x"');
    expect(r.stderr).toContain(
      "holdfast: kura-cache-7: pn0: not adopted; left as it was (198.18.0.2/22), whatever held it still does",
    );
    expect(r.stderr).toContain(
      "holdfast: kura-cache-7: holdfast adopt failed (why is above): no DHCP client was stopped and holdfast.service was not started",
    );
    const calls = sandbox.calls();
    expect(
      calls.filter((c) => /^kill |^ip addr change/.test(c)),
      "the old client was touched",
    ).toEqual([]);
    expect(calls.filter((c) => /^systemctl (enable|start|restart|kill|disable)/.test(c))).toEqual([]);
    expect(r.stdout).toBe("");
  });

  it("sets only pn0's ifupdown stanza to manual, with a backup, once", () => {
    const interfaces = [
      "source /etc/network/interfaces.d/*",
      "auto lo",
      "iface lo inet loopback",
      "allow-hotplug eth0",
      "iface eth0 inet dhcp",
      "auto pn0",
      "iface pn0 inet dhcp",
      "    vlan-raw-device eth0",
      "",
    ].join("\n");
    const first = sandbox.run(script, { dhclient: true, files: { "/etc/network/interfaces": interfaces } });
    expect(first.status).toBe(0);
    expect(sandbox.written("/etc/network/interfaces")).toBe(
      interfaces.replace(
        "iface pn0 inet dhcp\n",
        '# holdfast: was "inet dhcp"; the holdfast agent holds pn0\'s address now ' +
          "(file as it was: /etc/network/interfaces.holdfast-bak)\niface pn0 inet manual\n",
      ),
    );
    expect(sandbox.written("/etc/network/interfaces.holdfast-bak")).toBe(interfaces);
    expect(first.stderr).toContain(
      "changed: /etc/network/interfaces: iface pn0 inet dhcp set to manual (ifupdown leaves it to holdfast; backup /etc/network/interfaces.holdfast-bak)",
    );
    // the stanza went before its dhclient did
    expect(first.stderr.indexOf("inet dhcp set to manual")).toBeLessThan(first.stderr.indexOf("dhclient"));

    const second = sandbox.run(script);
    expect(second.stderr).not.toContain("/etc/network/interfaces");
    expect(second.status).toBe(0);
  });

  it("leaves a dhclient for pn0 in another network namespace alone (a container's, a lab's)", () => {
    // GIVEN a dhclient for pn0 in this namespace and one in a namespace of its own
    const r = sandbox.run(script, { dhclient: true, foreignDhclient: true });
    expect(r.status).toBe(0);
    const own = sandbox.standInPid("dhclient");
    const foreign = sandbox.standInPid("foreignDhclient");
    expect(foreign).not.toBe(own);
    // THEN only the one sharing the script's network namespace is frozen, then stopped
    expect(sandbox.calls().filter((c) => c.startsWith("kill "))).toEqual([
      `kill -STOP ${own}`,
      `kill -KILL ${own}`,
    ]);
    expect(r.stderr).toContain(`changed: pn0: dhclient ${own} stopped`);
    expect(r.stderr).not.toContain(`dhclient ${foreign}`);
  });

  it("in an image build (systemd not running) it installs and enables, reloads nothing and exits 0", () => {
    // GIVEN no booted systemd WHEN the script runs
    const r = sandbox.run(script, { booted: false });
    // THEN the unit is installed and enabled for the next boot, and nothing talks to the manager
    expect(r.stderr).not.toContain("has not been booted");
    expect(r.stdout).toMatch(
      /^holdfast: kura-cache-7: installed, starts at boot \(holdfast \S+, \d+ changes\)\n$/,
    );
    expect(r.status).toBe(0);
    expect(sandbox.calls()).toContain("systemctl enable --quiet holdfast.service");
    expect(sandbox.calls().join("\n")).not.toMatch(/systemctl (daemon-reload|start|restart)/);
  });

  it("the fragment does the same when spliced into a bootstrap without set -e", () => {
    const fragment = renderFragmentFromSpec(spec, fakeBundle());
    const bootstrap = `echo "existing bootstrap"\n${fragment}\necho "holdfast returned $?"\n`;
    const r = sandbox.run(bootstrap);
    expect(r.stdout).toMatch(
      /^existing bootstrap\nholdfast: kura-cache-7: held pn0 \S+ \(.*\)\nholdfast returned 0\n$/,
    );
  });

  it("a corrupt embedded bundle is refused before anything uses it", () => {
    const corrupt = script.replace(
      /holdfast_bundle_sha256='[0-9a-f]{64}'/,
      `holdfast_bundle_sha256='${"0".repeat(64)}'`,
    );
    const r = sandbox.run(corrupt);
    expect(r.stderr).toContain("embedded agent bundle is corrupt");
    expect(r.status).not.toBe(0);
    expect(sandbox.calls().join("\n")).not.toContain("systemctl enable");
  });
});
