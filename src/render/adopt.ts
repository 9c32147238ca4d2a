/**
 * The install script's adoption step (owned by converge): before any old DHCP client is
 * stopped and before the agent starts, `holdfast adopt` writes the address each interface
 * carries now into the agent's cache and makes it stop expiring (src/converge/adopt.ts).
 * The agent then holds that address from its first start without DHCP, so there is no
 * moment without it, and a reboot with a silent DHCP server keeps it too. Same rules as
 * install-lib.ts: data only from the `holdfast_*` variables, every step checked.
 */
export const INSTALL_ADOPT_LIB = `holdfast_adopt() {
  local out line
  out=$(holdfast_as_root "$holdfast_path_launcher" adopt --config "$holdfast_path_config") || {
    holdfast_log "holdfast adopt failed"
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
