import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { inPrivateMounts } from "./private-mounts.js";
import type { Command } from "./supervisor.js";

/**
 * Debian's own script, kept on purpose: it adds the address with `valid_lft <lease time>`,
 * so the kernel drops it at expiry (the incident). What it sources is what the sandbox controls.
 */
export const DHCLIENT_SCRIPT = "/sbin/dhclient-script";

/**
 * dhclient reads /etc/dhcp/dhclient.conf and dhclient-script sources every hook in
 * /etc/dhcp/dhclient-{enter,exit}-hooks(.d); `ip netns exec` only swaps /etc/netns/<ns>
 * files and /sys. Host hooks (timesyncd, cloud-init) would reach the host's services, so
 * the lab's own directory is bind-mounted over the whole of /etc/dhcp.
 */
const HOST_DHCP_ETC = "/etc/dhcp";
/** dhclient's compiled-in lease database directory (`dhclient -x` without -lf writes there). */
const HOST_DHCP_VAR = "/var/lib/dhcp";
const RFC3442_HOOK = "rfc3442-classless-routes";

/**
 * Debian's default dhclient.conf request list. Option 121 must be declared and requested:
 * the lab's Kea answers from 169.254.169.254, and unicast renewals only reach it through
 * the classless route it hands out.
 */
export function labDhclientConf(): string {
  return `# holdfast lab: dhclient's configuration (the host's /etc/dhcp is never read)
option rfc3442-classless-static-routes code 121 = array of unsigned integer 8;
send host-name = gethostname();
request subnet-mask, broadcast-address, time-offset, routers,
	domain-name, domain-name-servers, domain-search, host-name,
	dhcp6.name-servers, dhcp6.domain-search, dhcp6.fqdn, dhcp6.sntp-servers,
	netbios-name-servers, netbios-scope, interface-mtu,
	rfc3442-classless-static-routes, ntp-servers;
`;
}

/**
 * A copy of Debian's /etc/dhcp/dhclient-exit-hooks.d/rfc3442-classless-routes
 * (isc-dhcp-client), the one host hook the lab needs: it installs option 121's routes.
 * Sourced by dhclient-script, hence `return`.
 */
export function rfc3442Hook(): string {
  return `# holdfast lab: copy of Debian's isc-dhcp-client rfc3442-classless-routes exit hook
# set classless routes based on the format specified in RFC3442
# e.g.:
#   new_rfc3442_classless_static_routes='24 192 168 10 192 168 1 1 8 10 10 17 66 41'
# specifies the routes:
#   192.168.10.0/24 via 192.168.1.1
#   10.0.0.0/8 via 10.10.17.66.41

RUN="yes"


if [ "$RUN" = "yes" ]; then
	if [ -n "$new_rfc3442_classless_static_routes" ]; then
		if [ "$reason" = "BOUND" ] || [ "$reason" = "REBOOT" ]; then

			set -- $new_rfc3442_classless_static_routes

			while [ $# -gt 0 ]; do
				net_length=$1
				via_arg=''

				case $net_length in
					32|31|30|29|28|27|26|25)
						if [ $# -lt 9 ]; then
							return 1
						fi
						net_address="\${2}.\${3}.\${4}.\${5}"
						gateway="\${6}.\${7}.\${8}.\${9}"
						shift 9
						;;
					24|23|22|21|20|19|18|17)
						if [ $# -lt 8 ]; then
							return 1
						fi
						net_address="\${2}.\${3}.\${4}.0"
						gateway="\${5}.\${6}.\${7}.\${8}"
						shift 8
						;;
					16|15|14|13|12|11|10|9)
						if [ $# -lt 7 ]; then
							return 1
						fi
						net_address="\${2}.\${3}.0.0"
						gateway="\${4}.\${5}.\${6}.\${7}"
						shift 7
						;;
					8|7|6|5|4|3|2|1)
						if [ $# -lt 6 ]; then
							return 1
						fi
						net_address="\${2}.0.0.0"
						gateway="\${3}.\${4}.\${5}.\${6}"
						shift 6
						;;
					0)	# default route
						if [ $# -lt 5 ]; then
							return 1
						fi
						net_address="0.0.0.0"
						gateway="\${2}.\${3}.\${4}.\${5}"
						shift 5
						;;
					*)	# error
						return 1
						;;
				esac

				# take care of link-local routes
				if [ "\${gateway}" != '0.0.0.0' ]; then
					via_arg="via \${gateway}"
				fi

				# set route (ip detects host routes automatically)
				ip -4 route add "\${net_address}/\${net_length}" \\
					\${via_arg} dev "\${interface}" >/dev/null 2>&1
			done
		fi
	fi
fi
`;
}

/** The lab's stand-ins for /etc/dhcp and /var/lib/dhcp of one run. */
export interface DhclientSandbox {
  /** bound over /etc/dhcp: dhclient.conf, no enter hooks, only the RFC 3442 exit hook */
  readonly etcDir: string;
  /** bound over /var/lib/dhcp */
  readonly varDir: string;
  /** the lab's dhclient.conf, passed with -cf */
  readonly conf: string;
}

/**
 * Writes the sandbox's files: etc under configDir (rewritten every boot), var under stateDir
 * (it survives a simulated reboot, like /var/lib/dhcp on disk).
 */
export async function prepareDhclientSandbox(configDir: string, stateDir: string): Promise<DhclientSandbox> {
  const etcDir = join(configDir, "etc-dhcp");
  const varDir = join(stateDir, "var-lib-dhcp");
  await mkdir(join(etcDir, "dhclient-enter-hooks.d"), { recursive: true });
  await mkdir(join(etcDir, "dhclient-exit-hooks.d"), { recursive: true });
  await mkdir(varDir, { recursive: true });
  const conf = join(etcDir, "dhclient.conf");
  await writeFile(conf, labDhclientConf());
  // run-parts lists it whatever its mode; dhclient-script sources it (Debian ships it 0644)
  await writeFile(join(etcDir, "dhclient-exit-hooks.d", RFC3442_HOOK), rfc3442Hook(), { mode: 0o644 });
  return { etcDir, varDir, conf };
}

/**
 * `file args…` in a private mount (and UTS: dhclient-script may set the hostname) namespace
 * with the sandbox bound over /etc/dhcp and /var/lib/dhcp. unshare and sh exec, so the pid
 * stays the program's own and it leads its process group as before.
 */
export function sandboxed(sandbox: DhclientSandbox, file: string, args: readonly string[]): Command {
  const script = `mount --bind "$1" ${HOST_DHCP_ETC} && mount --bind "$2" ${HOST_DHCP_VAR} && shift 2 && exec "$@"`;
  return inPrivateMounts(script, "dhclient-sandbox", [sandbox.etcDir, sandbox.varDir, file, ...args]);
}

/** `dhclient -cf <lab conf> -sf /sbin/dhclient-script args…` inside the sandbox. */
export function dhclientCommand(sandbox: DhclientSandbox, args: readonly string[]): Command {
  return sandboxed(sandbox, "dhclient", ["-cf", sandbox.conf, "-sf", DHCLIENT_SCRIPT, ...args]);
}
