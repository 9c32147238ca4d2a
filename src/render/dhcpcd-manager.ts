/**
 * A dhcpcd manager: one `dhcpcd` serving every interface (Debian's dhcpcd.service runs
 * `dhcpcd -q -b`, no interface argument). Stopping it, as the install script does with a
 * per-interface client, would take DHCP away from the node's other NICs. So only the PN
 * interface is taken from it:
 * - /etc/dhcpcd.conf gains `denyinterfaces <if>` under a comment naming holdfast (the file as
 *   it was kept beside it), so dhcpcd leaves the interface alone from its next start;
 * - the running manager is told over its control socket to stop that interface with
 *   `-p -x <if>` (persistent: no release, the address stays; dhcpcd(8)). The `dhcpcd` command
 *   cannot send this itself: with one interface argument and `-x` it signals that interface's
 *   own pid file, which a manager does not have. A reload (`dhcpcd -n`) is not sent: it
 *   re-applies every interface, deleting and re-adding the other NICs' routes.
 * Only dhcpcd 9's privilege-separated titles ("dhcpcd: [manager] [ip4]", older "[master]")
 * or an argv naming no interface count as a manager; "dhcpcd: pn0 [ip4]" is a per-interface
 * client (client-pids.ts). Only /etc/dhcpcd.conf is read: a manager started with `-f` is not
 * recognised as serving the interface unless that file denies nothing either.
 */

/** the one file the manager is told to deny the interface in */
export const DHCPCD_CONF = "/etc/dhcpcd.conf";

/** Finder shared by the install script and converge's probe (read-only). Bash; needs holdfast_same_ns. */
export const DHCPCD_MANAGER_FIND_LIB = `holdfast_dhcpcd_conf=${DHCPCD_CONF}

# Whether /etc/dhcpcd.conf denies interface $1 already.
holdfast_dhcpcd_denied() {
  [ -r "$holdfast_dhcpcd_conf" ] || return 1
  awk -v i="$1" '$1 == "denyinterfaces" { for (n = 2; n <= NF; n++) if ($n == i) found = 1 } END { exit !found }' "$holdfast_dhcpcd_conf"
}

# Prints the PID of each dhcpcd manager (serving every interface) in this network namespace.
holdfast_dhcpcd_manager_pids() {
  local pid argv word named
  for pid in $(holdfast_pids_named dhcpcd); do
    argv=$({ tr '\\0' '\\n' <"/proc/$pid/cmdline"; } 2>/dev/null) || continue
    case "$argv" in
      "dhcpcd: [manager]"* | "dhcpcd: [master]"*) ;;
      "dhcpcd: "*) continue ;;
      *)
        named=no
        for word in $argv; do
          case "$word" in */* | .*) continue ;; esac
          [ -e "/sys/class/net/$word" ] && named=yes
        done
        [ "$named" = no ] || continue
        ;;
    esac
    holdfast_client_here "$pid" && printf '%s\\n' "$pid"
  done
  return 0
}

# "pid:unit" of the dhcpcd manager serving $1 (not denied it), or nothing.
holdfast_dhcpcd_manager_of() {
  local pid
  holdfast_dhcpcd_denied "$1" && return 0
  for pid in $(holdfast_dhcpcd_manager_pids); do
    printf '%s:%s\\n' "$pid" "$(grep -o '[^/]*[.]service$' "/proc/$pid/cgroup" 2>/dev/null | head -n 1)"
    return 0
  done
  return 0
}
`;

// Sends its arguments to dhcpcd's control socket as dhcpcd's own control_send does (argv,
// each NUL-terminated, no length). No single quotes inside: it is embedded in them.
const CONTROL_JS = [
  `const path = process.argv[1];`,
  `const msg = Buffer.from(process.argv.slice(2).map((a) => a + "\\0").join(""));`,
  `const s = require("net").connect(path, () => s.end(msg));`,
  `s.on("error", (e) => { process.stderr.write(path + ": " + e.message + "\\n"); process.exit(1); });`,
  `s.on("close", () => process.exit(0));`,
].join("\n");

/** The install script's step; needs holdfast_as_root, holdfast_changed, holdfast_log, holdfast_tmp, holdfast_seed_forever, holdfast_node_bin. Bash. */
export const INSTALL_DHCPCD_MANAGER_LIB = `${DHCPCD_MANAGER_FIND_LIB}
holdfast_dhcpcd_control_js='${CONTROL_JS}'

# Whether a dhcpcd process in this namespace still works on $1 (privsep's "[BPF ARP] $1 …").
holdfast_dhcpcd_on() {
  local dir comm
  for dir in /proc/[0-9]*; do
    comm=""
    read -r comm 2>/dev/null <"$dir/comm" || continue
    [ "$comm" = dhcpcd ] || continue
    tr '\\0' '\\n' <"$dir/cmdline" 2>/dev/null | tr ' ' '\\n' | grep -Fx -- "$1" >/dev/null || continue
    holdfast_same_ns net "\${dir#/proc/}" && return 0
  done
  return 1
}

# A dhcpcd manager serving any of the interfaces: they are denied in /etc/dhcpcd.conf (backup
# first), then the running manager stops them without a release, keeping their addresses; it
# goes on serving every other interface.
holdfast_quiet_dhcpcd_manager() {
  local iface todo=() file=$holdfast_dhcpcd_conf backup="" manager pid unit sock n
  for iface in "\${holdfast_interfaces[@]}"; do
    [ -n "$(holdfast_dhcpcd_manager_of "$iface")" ] && todo+=("$iface")
  done
  [ "\${#todo[@]}" -gt 0 ] || return 0
  manager=$(holdfast_dhcpcd_manager_of "\${todo[0]}")
  pid=\${manager%%:*}
  unit=\${manager#*:}
  for iface in "\${todo[@]}"; do
    holdfast_seed_forever "$iface" || return 1
  done
  if [ -e "$file" ]; then
    backup="$file.holdfast-bak"
    [ -e "$backup" ] && backup="$backup.$(date +%s)"
    holdfast_as_root cp -p "$file" "$backup" || return 1
    cat "$file" >"$holdfast_tmp/dhcpcd.conf" || return 1
  else
    : >"$holdfast_tmp/dhcpcd.conf"
  fi
  {
    printf '\\n# holdfast: the holdfast agent holds the address of %s; dhcpcd leaves %s alone%s\\n' \\
      "\${todo[*]}" "$([ "\${#todo[@]}" = 1 ] && printf it || printf them)" "\${backup:+ (file as it was: $backup)}"
    printf 'denyinterfaces %s\\n' "\${todo[*]}"
  } >>"$holdfast_tmp/dhcpcd.conf" || return 1
  holdfast_as_root cp "$holdfast_tmp/dhcpcd.conf" "$file.holdfast-new" || return 1
  [ -z "$backup" ] || holdfast_as_root chmod --reference="$backup" "$file.holdfast-new" || return 1
  holdfast_as_root mv -f "$file.holdfast-new" "$file" || return 1
  holdfast_changed "$file: denyinterfaces \${todo[*]} added (dhcpcd serves the other interfaces as before; $([ -n "$backup" ] && printf 'backup %s' "$backup" || printf 'there was no file'))"
  sock=""
  for n in /run/dhcpcd/sock /var/run/dhcpcd/sock /run/dhcpcd.sock /var/run/dhcpcd.sock; do
    [ -S "$n" ] && { sock=$n; break; }
  done
  [ -n "$sock" ] || { holdfast_log "dhcpcd pid $pid: no control socket (/run/dhcpcd/sock); it still serves \${todo[*]} until it restarts"; return 1; }
  holdfast_as_root "$holdfast_node_bin" -e "$holdfast_dhcpcd_control_js" "$sock" dhcpcd -p -x "\${todo[@]}" || return 1
  for iface in "\${todo[@]}"; do
    n=0
    while holdfast_dhcpcd_on "$iface"; do
      n=$((n + 1))
      [ "$n" -lt 50 ] || { holdfast_log "$iface: dhcpcd pid $pid still serves it 5 s after -p -x $iface"; return 1; }
      sleep 0.1
    done
    # again: a renewal just before the stop set a finite lifetime
    holdfast_seed_forever "$iface" || return 1
  done
  holdfast_changed "dhcpcd pid $pid\${unit:+ ($unit)}: let go of \${todo[*]} (-p -x: no release, address kept); it still serves the other interfaces"
}
`;
