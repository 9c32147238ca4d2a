import { shellQuote } from "../render/shell.js";
import type { GuestAgent } from "./qga.js";

/**
 * What prove puts on the node VMs besides the user's own user-data, and what it reads back
 * from them. Prove writes these through the guest agent, never through the user-data (which
 * stays the user's alone), the way a later provisioning step installs a kubelet.
 *
 * The dependent, `holdfast-prove-dependent@<if>.service`, is the cache the runners reach:
 * ordered after network-online.target, it binds the PN address on port 8080 and serves /up,
 * and fails when there is no address. It is busybox httpd, not a Node server: under TCG a
 * Node stand-in sharing the one emulated CPU with the agent stopped accepting (14 handshakes
 * waiting in its listen queue while the address, routes and neighbours were all in place),
 * and the probes it failed said nothing about the hold.
 */

export const DEPENDENT_PORT = 8080;

const PROVE_LIB = "/usr/local/lib/holdfast-prove";

export function dependentUnit(ifname: string): string {
  return `holdfast-prove-dependent@${ifname}.service`;
}

export interface GuestFile {
  readonly path: string;
  readonly content: string;
  readonly mode?: string;
}

const DEPENDENT_FILES: readonly GuestFile[] = [
  {
    path: `${PROVE_LIB}/up-server.sh`,
    mode: "0755",
    content: `#!/bin/sh
# holdfast prove: the cache stand-in. Binds <interface>'s IPv4 address at start, or fails.
ifname=$1
address=$(ip -4 -o addr show dev "$ifname" 2>/dev/null | sed -n 's|.* inet \\([0-9.]*\\)/.*|\\1|p' | head -n 1)
if [ -z "$address" ]; then
  echo "$ifname: no IPv4 address at start" >&2
  exit 1
fi
echo "$ifname: serving /up on $address:${DEPENDENT_PORT}"
exec busybox httpd -f -p "$address:${DEPENDENT_PORT}" -h ${PROVE_LIB}/www
`,
  },
  { path: `${PROVE_LIB}/www/up`, content: "up\n" },
  {
    path: "/etc/systemd/system/holdfast-prove-dependent@.service",
    content: `[Unit]
Description=holdfast prove: a service that binds the PN address of %i (the cache stand-in)
Wants=network-online.target
After=network-online.target

[Service]
ExecStart=${PROVE_LIB}/up-server.sh %i

[Install]
WantedBy=multi-user.target
`,
  },
];

/** A shell script that writes the files (parents made) and then runs the commands. */
export function installScript(files: readonly GuestFile[], commands: readonly string[]): string {
  return [
    "set -eu",
    ...files.flatMap((f) => [
      `mkdir -p ${shellQuote(f.path.slice(0, f.path.lastIndexOf("/")))}`,
      `printf '%s' ${shellQuote(f.content)} > ${shellQuote(f.path)}`,
      `chmod ${f.mode ?? "0644"} ${shellQuote(f.path)}`,
    ]),
    ...commands,
  ].join("\n");
}

/** On the holdfast node, after cloud-init is done: the dependent, enabled and started. */
export function dependentInstall(ifname: string): string {
  return installScript(DEPENDENT_FILES, [
    "systemctl daemon-reload",
    `systemctl enable --now ${dependentUnit(ifname)}`,
  ]);
}

/**
 * The pre-fix node: the seed's bootstrap, i.e. the VLAN made at boot and the incident's
 * `dhclient -d <if>` under Restart=always, then the same dependent, all enabled at once the
 * way the seed's user-data did. This node boots without cloud-init (under TCG its four
 * Python stages cost minutes and prove nothing about the seed's unit).
 */
export function preFixInstall(ifname: string, vlanId: number): string {
  const vlan = `[Unit]
Description=the seed's PN VLAN ${ifname} (id ${vlanId})
Before=pn-dhclient.service

[Service]
Type=oneshot
RemainAfterExit=yes
# on the seed's servers the distribution's network config has the NIC up; the VM has none
ExecStart=/sbin/ip link set eth0 up
ExecStart=/sbin/ip link add link eth0 name ${ifname} type vlan id ${vlanId}
ExecStart=/sbin/ip link set ${ifname} up

[Install]
WantedBy=multi-user.target
`;
  const dhclient = `# The unit from the incident write-up: a renew-forever dhclient under Restart=always.
[Unit]
Description=DHCP client for the private network
Requires=pn-vlan.service
After=pn-vlan.service

[Service]
ExecStart=/sbin/dhclient -d ${ifname}
Restart=always

[Install]
WantedBy=multi-user.target
`;
  return installScript(
    [
      { path: "/etc/systemd/system/pn-vlan.service", content: vlan },
      { path: "/etc/systemd/system/pn-dhclient.service", content: dhclient },
      ...DEPENDENT_FILES,
    ],
    [
      "systemctl daemon-reload",
      `systemctl enable --now pn-vlan.service pn-dhclient.service ${dependentUnit(ifname)}`,
    ],
  );
}

/** "vlan protocol 802.1Q id 3250" from `ip -d link show`, or undefined. */
export function vlanOf(ipDetails: string): string | undefined {
  return /vlan protocol 802\.1Q id \d+/.exec(ipDetails)?.[0];
}

export interface UnitState {
  readonly active: string;
  readonly result: string;
  /** µs since kernel start; 0 when it never started */
  readonly startedMonoUs: number;
}

export class NodeProbe {
  constructor(readonly agent: GuestAgent) {}

  async bootId(): Promise<string> {
    return (await this.agent.run("cat /proc/sys/kernel/random/boot_id")).trim();
  }

  /** Blocks until cloud-init is done; its one-word status and its long form. */
  async cloudInitDone(timeoutMs: number): Promise<{ ok: boolean; text: string }> {
    const out = await this.agent.sh("cloud-init status --wait --long", timeoutMs);
    return { ok: out.exitCode === 0 && /status: done/.test(out.stdout), text: out.stdout.trim() };
  }

  async ipDetails(ifname: string): Promise<string> {
    return (await this.agent.sh(`ip -d link show dev ${ifname}`)).stdout;
  }

  async ipv4(ifname: string): Promise<string[]> {
    const out = await this.agent.sh(`ip -4 -o addr show dev ${ifname}`);
    return [...out.stdout.matchAll(/inet (\S+)/g)].map((m) => m[1]!);
  }

  async holdfastStatus(): Promise<HeldStatus | undefined> {
    const out = await this.agent.sh("holdfast status --json");
    try {
      return JSON.parse(out.stdout) as HeldStatus;
    } catch {
      return undefined;
    }
  }

  /** Kernel start as epoch ms in the guest's clock: now minus /proc/uptime. */
  async bootEpochMs(): Promise<number> {
    const out = await this.agent.run("cat /proc/uptime; date +%s%3N");
    const [uptime, now] = out.trim().split("\n");
    return Number(now) - Number(uptime!.split(" ")[0]) * 1000;
  }

  async unit(name: string): Promise<UnitState> {
    const out = await this.agent.sh(
      `systemctl show -p ActiveState -p Result -p ExecMainStartTimestampMonotonic ${name}`,
    );
    const field = (key: string) => new RegExp(`^${key}=(.*)$`, "m").exec(out.stdout)?.[1] ?? "";
    return {
      active: field("ActiveState"),
      result: field("Result"),
      startedMonoUs: Number(field("ExecMainStartTimestampMonotonic")) || 0,
    };
  }

  /** When the units ahead of the hold became active on this boot: "unit=ms, …" (ms since kernel start). */
  async bootMilestones(): Promise<string> {
    const units = [
      "cloud-init-local.service",
      "cloud-init.service",
      "sysinit.target",
      "basic.target",
      "holdfast.service",
    ];
    const out = await this.agent.sh(
      units.map((u) => `systemctl show -p ActiveEnterTimestampMonotonic --value ${u}`).join("; "),
    );
    const values = out.stdout.trim().split("\n");
    return units
      .map((u, i) => `${u.replace(/\.service$/, "")}=${Math.round(Number(values[i] ?? 0) / 1000)}`)
      .join(", ");
  }

  async journal(unit: string, lines = 5): Promise<string> {
    return (await this.agent.sh(`journalctl -b --no-pager -o cat -n ${lines} -u ${unit}`)).stdout.trim();
  }

  async modules(): Promise<string> {
    return (await this.agent.sh("cat /proc/modules | cut -d' ' -f1 | grep -x 8021q")).stdout.trim();
  }
}

export interface HeldStatus {
  readonly agent?: { readonly running?: boolean };
  readonly attachments: readonly {
    readonly interface: string;
    readonly state: string;
    readonly cidr: string | null;
    readonly origin: string | null;
    readonly heldSince: string | null;
  }[];
}
