/**
 * Finding the DHCP client that serves one interface, shared by the install script (which
 * retires it) and converge's probe (which reports it). Bash; needs a `holdfast_as_root`.
 *
 * A client serves $2 alone when it names $2 on its command line (`dhclient -d pn0`,
 * `dhcpcd -B pn0`), or, since dhcpcd's privilege separation retitles its processes, when its
 * title is "dhcpcd: pn0 [ip4]". dhcpcd's helpers ("dhcpcd: [BPF ARP] pn0 …") and a manager
 * serving every interface ("dhcpcd: [manager] …") do not match: stopping them would take
 * other interfaces down with it. Only clients in this network namespace count: one in a
 * container, pod or lab namespace on the same host serves a different $2. The agent's own
 * confirm and discovery exchanges (one-shot clients in holdfast.service's cgroup) are not a
 * client to retire or report.
 */
export const CLIENT_PIDS_LIB = `# Whether process $2 shares this script's namespace of kind $1 (net, mnt). Reading another
# user's namespace links needs root, hence holdfast_as_root; unreadable counts as "not ours".
holdfast_same_ns() {
  local ours theirs
  ours=$(readlink "/proc/self/ns/$1") || return 1
  theirs=$(holdfast_as_root readlink "/proc/$2/ns/$1" 2>/dev/null) || return 1
  [ -n "$theirs" ] && [ "$theirs" = "$ours" ]
}

# Prints the PID of each process named $1 (its comm), one a line.
holdfast_pids_named() {
  local dir comm
  for dir in /proc/[0-9]*; do
    # a builtin read, not $(cat): one fork per process made a busy node's probe take 20 s
    { read -r comm <"$dir/comm"; } 2>/dev/null || continue
    [ "$comm" = "$1" ] && printf '%s\\n' "\${dir#/proc/}"
  done
  return 0
}

# Whether process $1 is a client of this host's network (this network namespace), not one of
# the agent's own exchanges (in holdfast.service's cgroup).
holdfast_client_here() {
  holdfast_same_ns net "$1" || return 1
  ! grep -q '/holdfast\\.service$' "/proc/$1/cgroup" 2>/dev/null
}

# Prints the PIDs of DHCP client $1 (dhclient, dhcpcd) serving interface $2 alone.
holdfast_client_pids() {
  local pid argv
  for pid in $(holdfast_pids_named "$1"); do
    argv=$({ tr '\\0' '\\n' <"/proc/$pid/cmdline"; } 2>/dev/null) || continue
    case "$argv" in
      "$1: $2" | "$1: $2 "*) ;;
      *) printf '%s\\n' "$argv" | grep -Fx -- "$2" >/dev/null || continue ;;
    esac
    holdfast_client_here "$pid" && printf '%s\\n' "$pid"
  done
  return 0
}
`;
