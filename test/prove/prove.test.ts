import { execFileSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { HoldfastError } from "../../src/errors.js";
import { dependentInstall, installScript, preFixInstall, vlanOf } from "../../src/prove/node.js";
import { renderProveJson, renderProveTable } from "../../src/prove/report.js";
import { proveTarget } from "../../src/prove/target.js";
import type { ProveReport } from "../../src/prove/types.js";
import { qemuArgs } from "../../src/prove/vm.js";
import { parseSpec } from "../../src/render/spec.js";
import { fixtureSpec, specDocument } from "../render/helpers.js";
import { scratchDir } from "../helpers/scratch.js";

const image = {
  dir: "/img",
  root: "/img/root.img",
  kernel: "/img/vmlinuz",
  initrd: "/img/initrd.img",
  kernelVersion: "6.1.0-cloud-amd64",
};

describe("prove's qemu command line", () => {
  const args = qemuArgs({
    name: "node",
    image,
    accel: "tcg",
    dir: "/run/holdfast-prove/1",
    memoryMb: 512,
    links: [{ mac: "52:54:00:4e:00:01", local: "/run/x/node.eth", remote: "/run/x/fabric-node.eth" }],
    seed: "/run/x/node.seed.img",
  });
  const text = args.join(" ");

  it("links VMs only by unix datagram sockets: no user-mode network, no tap", () => {
    const netdevs = args.filter((_, i) => args[i - 1] === "-netdev");
    expect(netdevs).toEqual([
      "dgram,id=n0,local.type=unix,local.path=/run/x/node.eth,remote.type=unix,remote.path=/run/x/fabric-node.eth",
    ]);
    expect(args).not.toContain("-nic");
    expect(args).not.toContain("-net");
    expect(text).not.toMatch(/hostfwd|guestfwd/);
    expect(args).toContain("-nodefaults");
  });

  it("boots the image's kernel with NoCloud named on the command line and never writes the cached image", () => {
    expect(args[args.indexOf("-kernel") + 1]).toBe("/img/vmlinuz");
    expect(args[args.indexOf("-append") + 1]).toContain("ds=nocloud");
    const append = args[args.indexOf("-append") + 1]!;
    const cc = / cc:(\S+) end_cc/.exec(append)?.[1] ?? "";
    expect(decodeURIComponent(cc)).toBe("bootcmd: [[ip, link, set, eth0, up]]\nlocale: false");
    expect(text).toContain("file=/img/root.img,if=virtio,format=raw,snapshot=on");
    expect(text).toContain("file=/run/x/node.seed.img,if=virtio,format=raw,readonly=on");
  });

  it("a VM without a seed runs no cloud-init", () => {
    const fabric = qemuArgs({ name: "fabric", image, accel: "kvm", dir: "/d", memoryMb: 384, links: [] });
    expect(fabric[fabric.indexOf("-append") + 1]).toContain("cloud-init=disabled");
    expect(fabric[fabric.indexOf("-cpu") + 1]).toBe("host");
  });
});

describe("what prove proves in a spec", () => {
  it("takes the first VLAN attachment discovered by DHCP", () => {
    expect(proveTarget(fixtureSpec("kura-cache-7"), "k.yaml")).toEqual({
      interface: "pn0",
      vlanId: 3250,
      index: 0,
    });
  });

  it("refuses a parent NIC the VM does not have, naming the field (exit 2)", () => {
    const spec = parseSpec(
      specDocument({
        config: {
          version: 1,
          attachments: [
            {
              interface: "pn7",
              link: { kind: "vlan", parent: "eno1", vlanId: 42 },
              address: { source: "dhcp" },
            },
          ],
        },
      }),
    );
    let error: unknown;
    try {
      proveTarget(spec, "node.yaml");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(HoldfastError);
    expect((error as HoldfastError).exitCode).toBe(2);
    expect((error as HoldfastError).describe()).toContain("agent.config.attachments[0].link.parent");
    expect((error as HoldfastError).describe()).toContain('got "eno1"');
  });

  it("refuses a spec with only static addresses", () => {
    expect(() => proveTarget(fixtureSpec("two-pns-static"), "t.yaml")).toThrow(
      /link.parent|nothing to prove/,
    );
  });
});

describe("what prove installs through the guest agent", () => {
  it("writes every file byte for byte with its mode, then runs the commands", () => {
    const dir = scratchDir("hf-prove-install-");
    const odd = "it's $HOME `x` \\1 %s\nno newline at the end";
    const script = installScript(
      [
        { path: join(dir, "a/b/script.sh"), content: "#!/bin/sh\necho hi\n", mode: "0755" },
        { path: join(dir, "odd"), content: odd },
      ],
      [`echo done > ${join(dir, "ran")}`],
    );
    execFileSync("sh", ["-c", script]);
    expect(readFileSync(join(dir, "a/b/script.sh"), "utf8")).toBe("#!/bin/sh\necho hi\n");
    expect(statSync(join(dir, "a/b/script.sh")).mode & 0o777).toBe(0o755);
    expect(readFileSync(join(dir, "odd"), "utf8")).toBe(odd);
    expect(statSync(join(dir, "odd")).mode & 0o777).toBe(0o644);
    expect(readFileSync(join(dir, "ran"), "utf8")).toBe("done\n");
  });

  it("the pre-fix node runs the incident's unit on the spec's interface and VLAN", () => {
    const script = preFixInstall("pn7", 42);
    expect(script).toContain("ExecStart=/sbin/dhclient -d pn7\nRestart=always");
    expect(script).toContain("name pn7 type vlan id 42");
    expect(script).toContain(
      "systemctl enable --now pn-vlan.service pn-dhclient.service holdfast-prove-dependent@pn7.service",
    );
  });

  it("the dependent binds the interface's address with busybox httpd, or fails", () => {
    const script = dependentInstall("pn7");
    expect(script).toContain("exec busybox httpd -f -p");
    expect(script).toContain("systemctl enable --now holdfast-prove-dependent@pn7.service");
  });

  it("reads the VLAN protocol and id from ip -d link", () => {
    const out =
      "5: pn0@eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500\n    link/ether 52:54:00:4e:00:01 brd ff:ff:ff:ff:ff:ff promiscuity 0\n    vlan protocol 802.1Q id 3250 <REORDER_HDR> addrgenmode eui64";
    expect(vlanOf(out)).toBe("vlan protocol 802.1Q id 3250");
    expect(vlanOf("3: eth0: <UP>")).toBeUndefined();
  });
});

describe("prove's report", () => {
  const report: ProveReport = {
    spec: "node.yaml",
    kernel: "6.1.0-41-cloud-amd64",
    accel: "tcg",
    accelWhy: "no /dev/kvm",
    interface: "pn0",
    vlanId: 3250,
    steps: [
      { name: "first-boot", pass: true, ms: 2100, detail: "held" },
      { name: "pre-fix", pass: false, ms: 0, detail: "kept" },
    ],
    figures: { cloudInitToHeldMs: 2100, kernelToHeldMs: null },
    phases: [{ name: "node: qemu start → guest agent", ms: 41_000 }],
    durationMs: 200_000,
    timelines: [],
  };

  it("the JSON has the contract's keys", () => {
    const doc = JSON.parse(renderProveJson(report)) as Record<string, unknown>;
    expect(Object.keys(doc)).toEqual(["spec", "kernel", "accel", "steps", "figures", "phases", "durationMs"]);
    expect(doc.steps).toEqual(report.steps);
  });

  it("the table names each step, its verdict and what its ms measure", () => {
    const table = renderProveTable(report);
    expect(table).toMatch(/first-boot\s+pass\s+2\.1 s\s+cloud-init start → held/);
    expect(table).toMatch(/pre-fix\s+FAIL/);
  });
});
