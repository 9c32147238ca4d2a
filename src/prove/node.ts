import { stringify } from "yaml";
import type { GuestAgent } from "./qga.js";

/**
 * What prove puts on the node VMs besides the user's own user-data, and what it reads back
 * from them. The dependent is `holdfast-prove-dependent@<if>.service`, baked into the image
 * (scripts/build-vm-image.sh): ordered after network-online.target, it binds the PN address
 * on port 8080 and serves /up (the cache the runners reach), and fails when there is none.
 * On the holdfast node prove enables it through the guest agent once cloud-init is done (the
 * user-data stays the user's alone), the way a later provisioning step installs a kubelet.
 */

export const DEPENDENT_PORT = 8080;

export function dependentUnit(ifname: string): string {
  return `holdfast-prove-dependent@${ifname}.service`;
}

/**
 * The pre-fix node: the seed's bootstrap, i.e. the VLAN made at boot and the incident's
 * `dhclient -d <if>` under Restart=always, then the same dependent.
 */
export function preFixUserData(ifname: string, vlanId: number): string {
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
  return `#cloud-config\n${stringify({
    locale: false,
    write_files: [
      { path: "/etc/systemd/system/pn-vlan.service", content: vlan },
      { path: "/etc/systemd/system/pn-dhclient.service", content: dhclient },
    ],
    runcmd: [
      ["systemctl", "daemon-reload"],
      ["systemctl", "enable", "--now", "pn-vlan.service", "pn-dhclient.service"],
      ["systemctl", "enable", "--now", dependentUnit(ifname)],
    ],
  })}`;
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
