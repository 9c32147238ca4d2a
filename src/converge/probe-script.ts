import { CLIENT_PIDS_LIB } from "../render/client-pids.js";
import { DHCPCD_MANAGER_FIND_LIB } from "../render/dhcpcd-manager.js";
import { IFUPDOWN_FIND_LIB } from "../render/ifupdown.js";
import { NODE_PATHS, UNIT_NAME } from "../render/paths.js";
import { shellQuote } from "../render/shell.js";
import { statusFilePath } from "../observe/status-file.js";
import { MAX_STATUS_BYTES, STALE_GRACE_MS, STALE_INTERVALS } from "../observe/status-read.js";

/** What converge renders for the agent, so the probe can read its status file itself. */
export interface ProbedAgent {
  /** the rendered config's runDir: where the agent keeps status.json */
  readonly runDir: string;
  /** the rendered config's sha256: only a node with exactly this config keeps its status there */
  readonly configSha256: string;
}

/**
 * Runs as root: prints the sha256sums of the config $3 and the files after it, then, when $1
 * is set and the config has the sha256 $2 (so $1 is where its agent writes), the status file $1 on one line, taken as
 * `holdfast status` takes it (a regular file of root's or ours, not a symlink, not oversized), and
 * whether its agent runs as `holdfast status` decides it (src/observe/status-read.ts): its
 * pid alive and its heartbeat (updatedAt) fresh. No Node.js start for any of it.
 */
export const ROOT_READS_LIB = `holdfast_root_reads() {
  local file=$1 want=$2 config=$3 sums owner size text pid="" updated="" interval="" now re
  shift 2
  sums=$(sha256sum -- "$@" 2>/dev/null)
  printf '%s\\n' "$sums"
  [ -n "$file" ] || return 0
  [[ $'\\n'$sums$'\\n' == *$'\\n'"$want  $config"$'\\n'* ]] || return 0
  if [ ! -f "$file" ] || [ -L "$file" ]; then printf 'status_running=no\\n'; return 0; fi
  read -r owner size <<<"$(stat -c '%u %s' -- "$file" 2>/dev/null)"
  if { [ "$owner" != 0 ] && [ "$owner" != "$EUID" ]; } || [ "\${size:-0}" -gt ${MAX_STATUS_BYTES} ]; then
    printf 'status_running=no\\n'
    return 0
  fi
  IFS= read -r -d '' text <"$file"
  printf 'status_file=%s\\n' "\${text//$'\\n'/ }"
  # the agent object comes first (the writer's order); a "pid" inside a string is escaped
  re='"pid": *([0-9]+)'; [[ $text =~ $re ]] && pid=\${BASH_REMATCH[1]}
  re='"updatedAt": *"([^"]*)"'; [[ $text =~ $re ]] && updated=$(date -d "\${BASH_REMATCH[1]}" +%s%3N 2>/dev/null)
  re='"reconcileIntervalMs": *([0-9]+)'; [[ $text =~ $re ]] && interval=\${BASH_REMATCH[1]}
  printf 'status_pid=%s\\n' "$pid"
  if [ -n "\${EPOCHREALTIME:-}" ]; then now=\${EPOCHREALTIME/[.,]/}; now=\${now%???}; else now=$(date +%s%3N); fi
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && [ -n "$updated" ] && [ -n "$interval" ] &&
    [ $((now - updated)) -le $((${STALE_INTERVALS} * interval + ${STALE_GRACE_MS})) ]; then
    printf 'status_running=yes\\n'
  else
    printf 'status_running=no\\n'
  fi
}`;

/**
 * The probe's remote half: one read-only bash snippet that prints `key=value` lines, one
 * value per line, about the OS, Node.js, the installed holdfast, and what holds each PN
 * interface. It changes nothing on the host; root is only used to read root-only files
 * (the config is 0600) and the agent's status, through passwordless sudo when not root.
 */
export function probeScript(interfaces: readonly string[], agent?: ProbedAgent): string {
  const ifaces = interfaces.map(shellQuote).join(" ");
  const files = [NODE_PATHS.config, NODE_PATHS.bundle, NODE_PATHS.launcher, NODE_PATHS.unit];
  const statusFile = agent === undefined ? "" : statusFilePath(agent.runDir);
  return `set -u
export LC_ALL=C PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
ifaces=(${ifaces})
# Builtins wherever a value is only reshaped: a fork costs 10-25 ms on a busy small VM, and
# the probe is most of what an unchanged host costs.
out() { printf '%s=%s\\n' "$1" "\${2//$'\\n'/ }"; }
if [ "$EUID" = 0 ]; then as_root() { "$@"; }; out root yes
elif sudo -n true 2>/dev/null; then as_root() { sudo -n -- "$@"; }; out root sudo
else as_root() { "$@"; }; out root no; fi
# shellcheck source=/dev/null
( . /etc/os-release 2>/dev/null && out os "\${ID:-unknown} \${VERSION_ID:-}" && out os_name "\${PRETTY_NAME:-}" ) || out os unknown
out kernel "$(uname -sr)"
if [ -d /run/systemd/system ]; then out systemd yes; else out systemd no; fi
out node "$(node --version 2>/dev/null || nodejs --version 2>/dev/null || echo none)"
# One sudo for what needs root (each sudo is a PAM session on the node): the four files'
# sha256sums (the config is 0600) and, with the rendered config, the agent's status file.
${ROOT_READS_LIB}
root_reads_args=(${shellQuote(statusFile)} ${shellQuote(agent?.configSha256 ?? "")} ${files.map(shellQuote).join(" ")})
if [ "$EUID" = 0 ]; then root_reads=$(holdfast_root_reads "\${root_reads_args[@]}" 2>/dev/null)
else root_reads=$(as_root bash -c "$(declare -f holdfast_root_reads); holdfast_root_reads \\"\\$@\\"" bash "\${root_reads_args[@]}" 2>/dev/null); fi
declare -A sums=()
running=""
while IFS= read -r line; do
  case $line in
    status_running=*) running=\${line#*=}; printf '%s\\n' "$line" ;;
    status_*) printf '%s\\n' "$line" ;;
    ?*) sums[\${line#*  }]=\${line%%  *} ;;
  esac
done <<<"$root_reads"
out bundle_sha256 "\${sums[${shellQuote(NODE_PATHS.bundle)}]:-}"
out launcher_sha256 "\${sums[${shellQuote(NODE_PATHS.launcher)}]:-}"
out config_sha256 "\${sums[${shellQuote(NODE_PATHS.config)}]:-}"
out unit_sha256 "\${sums[${shellQuote(NODE_PATHS.unit)}]:-}"
if [ -x ${shellQuote(NODE_PATHS.launcher)} ]; then
  if [ -z "$running" ]; then
    # another config (or none rendered): only the CLI knows where that one keeps its status
    status=$(as_root ${shellQuote(NODE_PATHS.launcher)} status --json --config ${shellQuote(NODE_PATHS.config)} 2>/dev/null)
    out status "$status"
    running=no
    re='"running": *true'
    [[ $status =~ $re ]] && running=yes
  fi
  # a running agent names its version in its status: no Node.js start for \`--version\`
  [ "$running" = yes ] || out version "$(${shellQuote(NODE_PATHS.launcher)} --version 2>/dev/null)"
fi
# one systemctl for the three units: a line each, in order
active="" networkd="" nm=""
{ read -r active; read -r networkd; read -r nm; } <<<"$(systemctl is-active ${UNIT_NAME} systemd-networkd NetworkManager 2>/dev/null)"
out service_active "$active"
out service_enabled "$(systemctl is-enabled ${UNIT_NAME} 2>/dev/null)"
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
