import { agentBundle } from "../../src/render/bundle.js";
import { parseSpec, type Spec } from "../../src/render/spec.js";
import { desiredState, type Desired } from "../../src/converge/desired.js";

/** A tiny stand-in bundle, as the render tests use: rendering stays fast, hashes stable. */
export const FAKE_BUNDLE = agentBundle(Buffer.from("#!/usr/bin/env node\nconsole.log('fake');\n"));

/** A render spec as written (design §4.6): the incident's pn0 on VLAN 3250. */
export function specDocument(
  name: string,
  reconcileInterval = "30s",
  address: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    version: 1,
    node: { name, bootstrapUser: "ubuntu" },
    agent: {
      install: "embedded",
      config: {
        version: 1,
        attachments: [
          {
            interface: "pn0",
            link: { kind: "vlan", vlanId: 3250 },
            address: { source: "dhcp", ...address },
            reconcileInterval,
          },
        ],
      },
    },
  };
}

export function specFor(
  name: string,
  reconcileInterval = "30s",
  address: Record<string, unknown> = {},
): Spec {
  return parseSpec(specDocument(name, reconcileInterval, address));
}

export function desiredFor(
  name: string,
  reconcileInterval = "30s",
  address: Record<string, unknown> = {},
): Desired {
  return desiredState(specFor(name, reconcileInterval, address), FAKE_BUNDLE);
}

export interface ProbeFixture {
  readonly installed?: Desired | "none";
  readonly serviceActive?: string;
  readonly serviceEnabled?: string;
  /** `ip -j -4 addr show dev pn0` */
  readonly addr?: string;
  readonly dhclient?: string;
  /** files with an `iface pn0 inet dhcp` stanza, space-separated */
  readonly ifupdown?: string;
  /** "pid:unit" of a dhcpcd manager serving pn0 */
  readonly dhcpcdManager?: string;
  readonly held?: string;
  readonly root?: "yes" | "sudo" | "no";
  readonly node?: string;
  readonly exists?: boolean;
}

export const LEASE_ADDR = JSON.stringify([
  {
    ifname: "pn0",
    addr_info: [
      {
        family: "inet",
        local: "172.16.0.2",
        prefixlen: 22,
        dynamic: true,
        valid_life_time: 8,
        preferred_life_time: 8,
      },
    ],
  },
]);

export const STATIC_ADDR = JSON.stringify([
  {
    ifname: "pn0",
    addr_info: [
      {
        family: "inet",
        local: "172.16.0.2",
        prefixlen: 22,
        valid_life_time: 4294967295,
        preferred_life_time: 4294967295,
      },
    ],
  },
]);

/** What the probe snippet prints on a host in the given situation. */
export function probeOutput(f: ProbeFixture = {}): string {
  const installed = f.installed === "none" || f.installed === undefined ? undefined : f.installed;
  const lines = [
    `root=${f.root ?? "sudo"}`,
    "os=debian 12",
    "os_name=Debian GNU/Linux 12 (bookworm)",
    "kernel=Linux 6.1.0",
    "systemd=yes",
    `node=${f.node ?? "v18.19.0"}`,
    `bundle_sha256=${installed?.bundleSha256 ?? ""}`,
    `launcher_sha256=${installed?.launcherSha256 ?? ""}`,
    `config_sha256=${installed?.configSha256 ?? ""}`,
    `unit_sha256=${installed?.unitSha256 ?? ""}`,
  ];
  if (installed) {
    // as the probe script: a running agent's status names the version, else `--version` does
    if (f.held)
      lines.push(
        `status=${JSON.stringify({ agent: { running: true, version: installed.version }, attachments: [{ interface: "pn0", state: "held", cidr: f.held }] })}`,
      );
    else lines.push(`version=${installed.version}`);
  }
  lines.push(
    `service_active=${f.serviceActive ?? (installed ? "active" : "inactive")}`,
    `service_enabled=${f.serviceEnabled ?? (installed ? "enabled" : "")}`,
  );
  if (f.exists === false) lines.push("if.pn0.exists=no");
  else
    lines.push(
      "if.pn0.exists=yes",
      `if.pn0.addr=${f.addr ?? "[]"}`,
      `if.pn0.dhclient=${f.dhclient ?? ""}`,
      "if.pn0.dhcpcd=",
      `if.pn0.dhcpcd_manager=${f.dhcpcdManager ?? ""}`,
      `if.pn0.ifupdown=${f.ifupdown ?? ""}`,
    );
  lines.push("end=yes", "");
  return lines.join("\n");
}
