import { describe, expect, it } from "vitest";
import { parseProbe } from "../../src/converge/probe.js";
import { probeScript } from "../../src/converge/probe-script.js";
import { run } from "../../src/util/exec.js";
import { LEASE_ADDR, STATIC_ADDR, desiredFor, probeOutput } from "./fixtures.js";

describe("probe", () => {
  it("GIVEN a fresh node whose pn0 is held by the old dhclient unit THEN the holder names the pid and unit", () => {
    const probe = parseProbe(probeOutput({ addr: LEASE_ADDR, dhclient: "312:dhclient-pn0.service " }), [
      "pn0",
    ]);
    expect(probe).toMatchObject({ root: "sudo", os: "debian 12", node: "v18.19.0", systemd: true });
    expect(probe.installed.bundleSha256).toBeUndefined();
    expect(probe.interfaces).toEqual([
      {
        name: "pn0",
        holder: "dhclient",
        detail: "dhclient pid 312 (dhclient-pn0.service)",
        addresses: [{ cidr: "172.16.0.2/22", validLft: 8, dynamic: true }],
        clientUnit: "dhclient-pn0.service",
      },
    ]);
  });

  it("tells a static address, an orphan lease, nothing and no interface apart", () => {
    const holder = (addr: string) => parseProbe(probeOutput({ addr }), ["pn0"]).interfaces[0]!.holder;
    expect(holder(STATIC_ADDR), "valid_lft forever, no client").toBe("static");
    expect(holder(LEASE_ADDR), "counting down, no client").toBe("orphan-lease");
    expect(holder("[]"), "no address").toBe("nothing");
    expect(parseProbe(probeOutput({ exists: false }), ["pn0"]).interfaces[0]!.holder).toBe("absent");
  });

  it("names holdfast as the holder, unless a dhclient runs beside it", () => {
    const installed = desiredFor("a");
    const held = parseProbe(probeOutput({ installed, addr: STATIC_ADDR, held: "172.16.0.2/22" }), ["pn0"]);
    expect(held.interfaces[0]!.holder).toBe("holdfast");
    expect(held.installed.version, "from the running agent's status: no `--version` start").toBe(
      installed.version,
    );
    expect(held.status).toEqual({
      running: true,
      version: installed.version,
      attachments: [{ interface: "pn0", state: "held", cidr: "172.16.0.2/22" }],
    });
    const both = parseProbe(
      probeOutput({ installed, addr: STATIC_ADDR, held: "172.16.0.2/22", dhclient: "99: " }),
      ["pn0"],
    );
    expect(both.interfaces[0], "a dhclient beside holdfast still wins: it must go").toMatchObject({
      holder: "dhclient",
      detail: "dhclient pid 99",
    });
  });

  it("GIVEN output cut short (ssh dropped) THEN it refuses to guess", () => {
    expect(() => parseProbe("root=yes\nos=debian 12\n", ["pn0"])).toThrow("probe output is incomplete");
  });

  it("passes shellcheck and runs read-only here, reporting lo and a missing interface", async () => {
    const script = probeScript(["lo", "hfnope0"]);
    const check = await run("shellcheck", ["-s", "bash", "-"], { input: script, timeoutMs: 30_000 });
    expect(check.stdout, "shellcheck finds nothing").toBe("");
    const result = await run("bash", ["-s"], { input: script, timeoutMs: 30_000 });
    expect(result.code).toBe(0);
    const probe = parseProbe(result.stdout, ["lo", "hfnope0"]);
    expect(probe.interfaces.map((i) => [i.name, i.holder])).toEqual([
      ["lo", "static"],
      ["hfnope0", "absent"],
    ]);
    expect(probe.interfaces[0]!.addresses).toContainEqual({
      cidr: "127.0.0.1/8",
      validLft: "forever",
      dynamic: false,
    });
    expect(probe.node).toMatch(/^v\d+\./);
  });
});
