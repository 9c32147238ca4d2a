/**
 * The install script's adoption step (owned by converge): before any old DHCP client is
 * stopped and before the agent starts, `holdfast adopt` writes the address each interface
 * carries now into the agent's cache and makes it stop expiring (src/converge/adopt.ts).
 * The agent then holds that address from its first start without DHCP, so there is no
 * moment without it, and a reboot with a silent DHCP server keeps it too. Same rules as
 * install-lib.ts: data only from the `holdfast_*` variables, every step checked.
 */
export const INSTALL_ADOPT_LIB = `# "198.18.0.10/22" (every IPv4 address on $1), or "no address"
holdfast_addresses_of() {
  local found
  found=$(ip -4 -o addr show dev "$1" 2>/dev/null | awk '{ print $4 }' | tr '\\n' ' ')
  printf '%s' "\${found% }"
  [ -n "$found" ] || printf 'no address'
}

# Adopt checks every interface before it writes anything, and runs before any client is
# stopped: when it fails, the node is exactly as it was (never half-adopted), and says so.
holdfast_adopt() {
  local out line iface
  out=$(holdfast_as_root "$holdfast_path_launcher" adopt --config "$holdfast_path_config") || {
    for iface in "\${holdfast_interfaces[@]}"; do
      holdfast_log "$iface: not adopted; left as it was ($(holdfast_addresses_of "$iface")), whatever held it still does"
    done
    holdfast_log "holdfast adopt failed (why is above): no DHCP client was stopped and $holdfast_unit was not started"
    return 1
  }
  while IFS= read -r line; do
    case "$line" in
      *": adopted "*) holdfast_changed "$line" ;;
      ?*) holdfast_log "$line" ;;
    esac
  done <<<"$out"
}
`;
