import { CLIENT_PIDS_LIB } from "../render/client-pids.js";
import { DHCPCD_MANAGER_FIND_LIB } from "../render/dhcpcd-manager.js";
import { IFUPDOWN_FIND_LIB } from "../render/ifupdown.js";
import { NODE_PATHS, UNIT_NAME } from "../render/paths.js";
import { shellQuote } from "../render/shell.js";

/**
 * The probe's remote half: one read-only bash snippet that prints `key=value` lines, one
 * value per line, about the OS, Node.js, the installed holdfast, and what holds each PN
 * interface. It changes nothing on the host; root is only used to read root-only files
 * (the config is 0600) and the agent's status, through passwordless sudo when not root.
 */
export function probeScript(interfaces: readonly string[]): string {
  const ifaces = interfaces.map(shellQuote).join(" ");
  return `set -u
export LC_ALL=C PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
ifaces=(${ifaces})
out() { printf '%s=%s\\n' "$1" "$(printf '%s' "$2" | tr '\\n' ' ')"; }
if [ "$(id -u)" = 0 ]; then as_root() { "$@"; }; out root yes
elif sudo -n true 2>/dev/null; then as_root() { sudo -n -- "$@"; }; out root sudo
else as_root() { "$@"; }; out root no; fi
# shellcheck source=/dev/null
( . /etc/os-release 2>/dev/null && out os "\${ID:-unknown} \${VERSION_ID:-}" && out os_name "\${PRETTY_NAME:-}" ) || out os unknown
out kernel "$(uname -sr)"
if [ -d /run/systemd/system ]; then out systemd yes; else out systemd no; fi
out node "$(node --version 2>/dev/null || nodejs --version 2>/dev/null || echo none)"
# one sudo for the four files, not four (each costs a PAM session on the node)
sums=$(as_root sha256sum ${[NODE_PATHS.bundle, NODE_PATHS.launcher, NODE_PATHS.config, NODE_PATHS.unit].map(shellQuote).join(" ")} 2>/dev/null)
sum() { printf '%s\\n' "$sums" | awk -v f="$1" '$2 == f { print $1 }'; }
out bundle_sha256 "$(sum ${shellQuote(NODE_PATHS.bundle)})"
out launcher_sha256 "$(sum ${shellQuote(NODE_PATHS.launcher)})"
out config_sha256 "$(sum ${shellQuote(NODE_PATHS.config)})"
out unit_sha256 "$(sum ${shellQuote(NODE_PATHS.unit)})"
if [ -x ${shellQuote(NODE_PATHS.launcher)} ]; then
  status=$(as_root ${shellQuote(NODE_PATHS.launcher)} status --json --config ${shellQuote(NODE_PATHS.config)} 2>/dev/null)
  out status "$status"
  # a running agent names its version in its status: one Node start per probe, not two
  printf '%s' "$status" | grep -q '"running": *true' ||
    out version "$(${shellQuote(NODE_PATHS.launcher)} --version 2>/dev/null)"
fi
out service_active "$(systemctl is-active ${UNIT_NAME} 2>/dev/null)"
out service_enabled "$(systemctl is-enabled ${UNIT_NAME} 2>/dev/null)"
networkd=$(systemctl is-active systemd-networkd 2>/dev/null)
nm=$(systemctl is-active NetworkManager 2>/dev/null)
holdfast_as_root() { as_root "$@"; }
${CLIENT_PIDS_LIB}
${IFUPDOWN_FIND_LIB}
${DHCPCD_MANAGER_FIND_LIB}
# pid:unit of each DHCP client $1 serving interface $2 alone
client_pids() {
  local pid
  for pid in $(holdfast_client_pids "$1" "$2"); do
    printf '%s:%s ' "$pid" "$(grep -o '[^/]*[.]service$' "/proc/$pid/cgroup" 2>/dev/null | head -n 1)"
  done
}
for i in "\${ifaces[@]}"; do
  if ! ip link show dev "$i" >/dev/null 2>&1; then out "if.$i.exists" no; continue; fi
  out "if.$i.exists" yes
  out "if.$i.addr" "$(ip -j -4 addr show dev "$i" 2>/dev/null)"
  out "if.$i.dhclient" "$(client_pids dhclient "$i")"
  out "if.$i.dhcpcd" "$(client_pids dhcpcd "$i")"
  out "if.$i.dhcpcd_manager" "$(holdfast_dhcpcd_manager_of "$i")"
  out "if.$i.ifupdown" "$(holdfast_ifupdown_dhcp_files "$i")"
  [ "$networkd" = active ] && out "if.$i.networkd" "$(networkctl list --no-legend --no-pager 2>/dev/null | awk -v i="$i" '$2 == i { print $5 }')"
  [ "$nm" = active ] && out "if.$i.networkmanager" "$(nmcli -t -f DEVICE,STATE device status 2>/dev/null | awk -F: -v i="$i" '$1 == i { print $2 }')"
done
out end yes
`;
}
