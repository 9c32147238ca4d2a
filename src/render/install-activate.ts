import { CLIENT_PIDS_LIB } from "./client-pids.js";
import { INSTALL_DHCPCD_MANAGER_LIB } from "./dhcpcd-manager.js";
import { INSTALL_IFUPDOWN_LIB } from "./ifupdown.js";

/**
 * The install script's fixed bash functions that take over from what ran before and
 * start the agent: set ifupdown's dhcp stanzas to manual, retire renew-forever DHCP clients
 * (dhclient, dhcpcd) without releasing their lease, take the interfaces from a dhcpcd manager
 * serving every interface (the others keep it), tell systemd-networkd / NetworkManager to
 * leave the interfaces alone, start
 * the unit, wait until every attachment is held. Same rules as install-lib.ts: data only from the
 * `holdfast_*` variables, every step checked.
 */

// Reads `holdfast status --json` on stdin; prints "pn0 172.16.0.2/22, pn1 discovering";
// exits 0 only when the agent runs and holds every attachment. No single quotes inside.
const STATUS_JS = [
  `let s = "";`,
  `process.stdin.on("data", (d) => (s += d)).on("end", () => {`,
  `  let doc = {};`,
  `  try { doc = JSON.parse(s); } catch (e) { doc = {}; }`,
  `  const a = Array.isArray(doc.attachments) ? doc.attachments : [];`,
  `  const running = Boolean(doc.agent && doc.agent.running);`,
  `  const held = running && a.length > 0 && a.every((x) => x.state === "held");`,
  `  const text = a.map((x) => x.interface + " " + (x.state === "held" ? x.cidr : x.state)).join(", ");`,
  `  process.stdout.write(running ? text || "no attachments" : "agent not running" + (text ? " (" + text + ")" : ""));`,
  `  process.exit(held ? 0 : 1);`,
  `});`,
].join("\n");

export const INSTALL_ACTIVATE_LIB = `${CLIENT_PIDS_LIB}
${INSTALL_IFUPDOWN_LIB}
${INSTALL_DHCPCD_MANAGER_LIB}
# A DHCP lease's address gets no expiry, so nothing can remove it between stopping its
# client and the agent holding it (which re-asserts the same address).
holdfast_seed_forever() {
  local cidr
  for cidr in $(ip -4 -o addr show dev "$1" dynamic 2>/dev/null | awk '{ print $4 }'); do
    holdfast_as_root ip addr change "$cidr" dev "$1" valid_lft forever preferred_lft forever || return 1
    holdfast_log "$1: $cidr no longer expires (it was a DHCP lease)"
  done
}

# Not booted with systemd (an image build, a chroot): there is no manager to reload, and
# systemctl daemon-reload would fail; the unit files load at the next boot.
holdfast_daemon_reload() {
  [ -d /run/systemd/system ] || return 0
  holdfast_as_root systemctl daemon-reload
}

# A unit whose main process is the dhclient: no restart, no stop hooks, disabled, then
# SIGKILL, so neither a release nor the client script's "STOP" flush can run.
holdfast_retire_unit() {
  local dropin="/run/systemd/system/$1.d"
  holdfast_as_root mkdir -p "$dropin" || return 1
  holdfast_content_retire_dropin | holdfast_as_root tee "$dropin/50-holdfast-retire.conf" >/dev/null || return 1
  holdfast_daemon_reload || return 1
  holdfast_as_root systemctl disable --quiet "$1" 2>/dev/null || true
  holdfast_as_root systemctl kill --signal=SIGKILL "$1" || return 1
  holdfast_as_root systemctl reset-failed "$1" 2>/dev/null || true
  holdfast_log "$1: disabled and killed (SIGKILL, no lease release)"
}

# A renew-forever client serving $1 alone (the incident's dhclient, a per-interface dhcpcd): its lease is
# made permanent, then the client goes without releasing it.
holdfast_stop_clients() {
  local client pid unit main
  for client in dhclient dhcpcd; do
    for pid in $(holdfast_client_pids "$client" "$1"); do
      # gone already: a dhcpcd helper that went with the main process retired just before
      [ -d "/proc/$pid" ] || continue
      # Frozen first: a stopped client can neither renew nor let its lease expire (its script
      # would flush the address) while its unit is retired, and a daemon-reload can take
      # seconds on a busy node. On failure it is let go on, as it was.
      holdfast_as_root kill -STOP "$pid" 2>/dev/null || true
      if ! holdfast_seed_forever "$1"; then
        holdfast_as_root kill -CONT "$pid" 2>/dev/null || true
        return 1
      fi
      # Its cgroup names a unit of this host's systemd only when it shares our mount namespace
      # (a container on the host network has its own init and units).
      unit=""
      if holdfast_same_ns mnt "$pid"; then
        unit=$(grep -o '[^/]*[.]service$' "/proc/$pid/cgroup" 2>/dev/null | head -n 1)
      fi
      main=""
      [ -n "$unit" ] && main=$(systemctl show -p MainPID --value "$unit" 2>/dev/null)
      if [ -n "$unit" ] && [ "$unit" != "$holdfast_unit" ] && [ "$main" = "$pid" ]; then
        if ! holdfast_retire_unit "$unit"; then
          holdfast_as_root kill -CONT "$pid" 2>/dev/null || true
          return 1
        fi
      elif [ "$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ')" = "$pid" ]; then
        # a daemon leading its own group (dhcpcd's privilege-separated helpers are in it)
        holdfast_as_root kill -KILL -- "-$pid" || return 1
        holdfast_log "$1: killed $client $pid and its group (SIGKILL, no lease release); remove whatever starts it at boot"
      else
        holdfast_as_root kill -KILL "$pid" || return 1
        holdfast_log "$1: killed $client $pid (SIGKILL, no lease release); remove whatever starts it at boot (e.g. /etc/network/interfaces)"
      fi
      # again, now that it is dead: a renewal between the first seed and the kill (a slow
      # daemon-reload on a busy node) set a finite lifetime that would expire before the agent runs
      holdfast_seed_forever "$1" || return 1
      holdfast_changed "$1: $client $pid stopped"
    done
  done
}

# Reloading a manager that currently runs DHCP on an interface could make it release the
# lease, so it is reloaded only when it manages none of them; else the file applies from
# its next start.
holdfast_quiet_networkd() {
  local before=$holdfast_changes iface setup
  [ -x /lib/systemd/systemd-networkd ] || [ -x /usr/lib/systemd/systemd-networkd ] || return 0
  holdfast_put "$holdfast_path_networkd" 0644 holdfast_content_networkd || return 1
  [ "$holdfast_changes" != "$before" ] || return 0
  systemctl is-active --quiet systemd-networkd 2>/dev/null || return 0
  for iface in "\${holdfast_interfaces[@]}"; do
    setup=$(networkctl list --no-legend --no-pager 2>/dev/null | awk -v i="$iface" '$2 == i { print $5 }')
    case "$setup" in
      "" | unmanaged) ;;
      *)
        holdfast_log "$iface: systemd-networkd manages it ($setup); not reloaded, it leaves $iface alone from its next start"
        return 0
        ;;
    esac
  done
  holdfast_as_root networkctl reload || return 1
}

# NetworkManager managing an interface: a reload of its configuration would make the device
# unmanaged at once, and NetworkManager deconfigures a device it lets go of (the address is
# deleted, the link set down). A restart does not: NetworkManager leaves devices as they are
# when it stops, and starts with the interface unmanaged, its DHCP client gone. Its other
# devices are assumed back as they were. So the address stops expiring first, then a restart.
holdfast_quiet_networkmanager() {
  local before=$holdfast_changes iface state managed=()
  [ -x /usr/sbin/NetworkManager ] || [ -x /sbin/NetworkManager ] || return 0
  holdfast_put "$holdfast_path_networkmanager" 0644 holdfast_content_networkmanager || return 1
  [ "$holdfast_changes" != "$before" ] || return 0
  systemctl is-active --quiet NetworkManager 2>/dev/null || return 0
  for iface in "\${holdfast_interfaces[@]}"; do
    state=$(nmcli -t -f DEVICE,STATE device status 2>/dev/null | awk -F: -v i="$iface" '$1 == i { print $2 }')
    case "$state" in
      "" | unmanaged) ;;
      *) managed+=("$iface") ;;
    esac
  done
  if [ "\${#managed[@]}" = 0 ]; then
    holdfast_as_root nmcli general reload conf >/dev/null 2>&1 || holdfast_as_root systemctl reload NetworkManager || return 1
    return 0
  fi
  for iface in "\${managed[@]}"; do
    holdfast_seed_forever "$iface" || return 1
  done
  holdfast_as_root systemctl restart NetworkManager || return 1
  # again, now that its DHCP client is gone: a renewal committed just before the stop set a
  # finite lifetime again (seen on a loaded node: the address expired 10 s later)
  for iface in "\${managed[@]}"; do
    holdfast_seed_forever "$iface" || return 1
  done
  holdfast_changed "NetworkManager restarted: \${managed[*]} unmanaged now, address kept (a reload would have removed it)"
}

# $1: how many of the agent's own files changed (restart only for those: a restart never
# removes a held address, but there is no reason for one either).
holdfast_activate() {
  if ! systemctl is-enabled --quiet "$holdfast_unit" 2>/dev/null; then
    [ "$holdfast_changes" = 0 ] || holdfast_daemon_reload || return 1
    holdfast_as_root systemctl enable --quiet "$holdfast_unit" || return 1
    holdfast_changed "$holdfast_unit enabled"
  elif [ "$1" != 0 ]; then
    holdfast_daemon_reload || return 1
  fi
  # Not booted with systemd (an image build, a chroot): it starts at the next boot.
  [ -d /run/systemd/system ] || return 0
  if ! systemctl is-active --quiet "$holdfast_unit"; then
    holdfast_as_root systemctl enable --now --quiet "$holdfast_unit" || return 1
    holdfast_changed "$holdfast_unit started"
  elif [ "$1" != 0 ]; then
    holdfast_as_root systemctl restart "$holdfast_unit" || return 1
    holdfast_log "$holdfast_unit restarted"
  fi
}

holdfast_status_js='${STATUS_JS}'

holdfast_held_summary() {
  local json
  json=$(holdfast_as_root "$holdfast_path_launcher" status --config "$holdfast_path_config" --json 2>/dev/null) || true
  [ -n "$json" ] || { printf 'no status yet'; return 1; }
  printf '%s' "$json" | "$holdfast_node_bin" -e "$holdfast_status_js"
}

holdfast_wait_held() {
  local deadline summary
  deadline=$(($(date +%s) + holdfast_wait_seconds))
  while :; do
    summary=$(holdfast_held_summary) && { printf '%s' "$summary"; return 0; }
    [ "$(date +%s)" -lt "$deadline" ] || { printf '%s' "$summary"; return 1; }
    sleep 1
  done
}

holdfast_changes_text() {
  case "$holdfast_changes" in
    0) printf 'no changes' ;;
    1) printf '1 change' ;;
    *) printf '%s changes' "$holdfast_changes" ;;
  esac
}

holdfast_install_steps() {
  local before iface summary
  before=$holdfast_changes
  holdfast_put "$holdfast_path_launcher" 0755 holdfast_content_launcher || return 1
  holdfast_ensure_node || return 1
  holdfast_ensure_arping || return 1
  holdfast_install_bundle || return 1
  holdfast_put "$holdfast_path_config" 0600 holdfast_content_config || return 1
  holdfast_put "$holdfast_path_unit" 0644 holdfast_content_unit || return 1
  holdfast_make_directories || return 1
  before=$((holdfast_changes - before))
  holdfast_adopt || return 1
  # before its dhclient goes: nothing may start that one again at the next boot
  holdfast_quiet_ifupdown || return 1
  for iface in "\${holdfast_interfaces[@]}"; do
    holdfast_stop_clients "$iface" || return 1
  done
  holdfast_quiet_dhcpcd_manager || return 1
  holdfast_quiet_networkd || return 1
  holdfast_quiet_networkmanager || return 1
  holdfast_activate "$before" || return 1
  if [ ! -d /run/systemd/system ]; then
    printf 'holdfast: %s: installed, starts at boot (holdfast %s, %s)\\n' "$holdfast_node" "$holdfast_version" "$(holdfast_changes_text)"
    return 0
  fi
  if summary=$(holdfast_wait_held); then
    printf 'holdfast: %s: held %s (holdfast %s, %s)\\n' "$holdfast_node" "$summary" "$holdfast_version" "$(holdfast_changes_text)"
    return 0
  fi
  printf 'holdfast: %s: not held after %ss: %s (holdfast %s, %s)\\n' "$holdfast_node" "$holdfast_wait_seconds" "$summary" "$holdfast_version" "$(holdfast_changes_text)"
  return 1
}

holdfast_install() {
  local rc=0
  holdfast_changes=0
  holdfast_require_root || return 1
  command -v systemctl >/dev/null 2>&1 || { holdfast_log "needs systemd: no systemctl"; return 1; }
  case "\${HOLDFAST_WAIT_SECONDS:-}" in
    "" | *[!0-9]*) holdfast_wait_seconds=120 ;;
    *) holdfast_wait_seconds=$HOLDFAST_WAIT_SECONDS ;;
  esac
  holdfast_tmp=$(mktemp -d) || return 1
  holdfast_install_steps || rc=$?
  rm -rf "$holdfast_tmp"
  return "$rc"
}
`;
