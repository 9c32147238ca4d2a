/**
 * Debian's ifupdown (`iface pn0 inet dhcp` in /etc/network/interfaces or a file it sources
 * from interfaces.d): the daemonised dhclient it starts is retired like any other client,
 * but ifupdown would start it again at the next boot. So the stanza becomes `inet manual`
 * (ifupdown still brings the link up, and leaves its address alone), with a comment naming
 * holdfast above it and the file as it was kept beside it. Only the PN interface's `iface`
 * line changes: other interfaces in the same file are left as they are.
 */

/** Finder shared by the install script and converge's probe (read-only). Bash. */
export const IFUPDOWN_FIND_LIB = `# Prints each ifupdown file that has an "iface $1 inet dhcp" stanza, one a line.
holdfast_ifupdown_dhcp_files() {
  local file
  for file in /etc/network/interfaces /etc/network/interfaces.d/*; do
    [ -f "$file" ] || continue
    awk -v i="$1" '$1 == "iface" && $2 == i && $3 == "inet" && $4 == "dhcp" { found = 1 } END { exit !found }' "$file" && printf '%s\\n' "$file"
  done
  return 0
}
`;

/** The install script's step; needs holdfast_as_root, holdfast_changed, holdfast_tmp. Bash. */
export const INSTALL_IFUPDOWN_LIB = `${IFUPDOWN_FIND_LIB}
# "iface $1 inet dhcp" becomes "iface $1 inet manual" in every file that has it, each file
# kept first as FILE.holdfast-bak (or FILE.holdfast-bak.EPOCH when that already exists).
holdfast_quiet_ifupdown() {
  local iface file backup
  for iface in "\${holdfast_interfaces[@]}"; do
    for file in $(holdfast_ifupdown_dhcp_files "$iface"); do
      backup="$file.holdfast-bak"
      [ -e "$backup" ] && backup="$backup.$(date +%s)"
      holdfast_as_root cp -p "$file" "$backup" || return 1
      awk -v i="$iface" -v b="$backup" '
        $1 == "iface" && $2 == i && $3 == "inet" && $4 == "dhcp" {
          match($0, /^[ \\t]*/)
          indent = substr($0, 1, RLENGTH)
          print indent "# holdfast: was \\"inet dhcp\\"; the holdfast agent holds " i "'"'"'s address now (file as it was: " b ")"
          $4 = "manual"
          print indent $0
          next
        }
        { print }' "$file" >"$holdfast_tmp/ifupdown" || return 1
      holdfast_as_root cp "$holdfast_tmp/ifupdown" "$file.holdfast-new" || return 1
      holdfast_as_root chmod --reference="$file" "$file.holdfast-new" || return 1
      holdfast_as_root mv -f "$file.holdfast-new" "$file" || return 1
      holdfast_changed "$file: iface $iface inet dhcp set to manual (ifupdown leaves it to holdfast; backup $backup)"
    done
  done
}
`;
