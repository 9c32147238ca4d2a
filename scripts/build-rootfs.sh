#!/usr/bin/env bash
# Builds the Debian 12 root filesystem the lab boots with systemd-nspawn ("booted
# nodes", design §5). Rebuilt only when missing or when the recipe below changed.
#
#   HOLDFAST_ROOTFS   where the rootfs lives (default /var/cache/holdfast-lab/rootfs-bookworm)
#   HOLDFAST_MIRROR   Debian mirror (default: the first deb.debian.org-style URI in apt's sources)
#   --force           rebuild even when the stamp matches
#
# Prints the rootfs path on the last line of stdout. Needs root and debootstrap.
set -euo pipefail

ROOTFS="${HOLDFAST_ROOTFS:-/var/cache/holdfast-lab/rootfs-bookworm}"
SUITE=bookworm
# Everything a node needs: a real systemd, Node.js for the agent (bookworm's 18.x is the
# oldest Node the bundle supports), the incident's dhclient, sshd + sudo for converge,
# python3 for Ansible's modules (the role's tests).
PACKAGES=(
  systemd systemd-sysv dbus libpam-systemd
  nodejs
  isc-dhcp-client dhcpcd-base busybox iproute2 iputils-ping
  openssh-server sudo procps ca-certificates curl
  python3
)
# Bump when the preparation steps below change so cached trees get rebuilt.
PREP_VERSION=3

FORCE=0
[[ "${1:-}" == "--force" ]] && FORCE=1

die() {
  echo "build-rootfs: $*" >&2
  exit 1
}

[[ $(id -u) -eq 0 ]] || die "needs root (debootstrap and chroot)"
command -v debootstrap >/dev/null || die "debootstrap is not installed (apt-get install debootstrap)"

# Use the mirror this machine's apt already uses: CI and the sandbox only reach that one.
find_mirror() {
  local uri
  uri=$(grep -hoE '^(URIs:|deb)[[:space:]]+(\[[^]]*\][[:space:]]+)?https?://[^[:space:]]+/debian/?([[:space:]]|$)' \
    /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null | grep -oE 'https?://[^[:space:]]+' | head -n1 || true)
  echo "${uri:-http://deb.debian.org/debian}"
}
MIRROR="${HOLDFAST_MIRROR:-$(find_mirror)}"

RECIPE_HASH=$(printf '%s\n' "$SUITE" "$PREP_VERSION" "${PACKAGES[@]}" | sha256sum | cut -d' ' -f1)
STAMP="$ROOTFS/.holdfast-rootfs-stamp"

mkdir -p "$(dirname "$ROOTFS")"
# Parallel test files may all ask for the rootfs at once: one builds, the others wait.
exec 9>"$ROOTFS.lock"
flock 9

if [[ $FORCE -eq 0 && -f "$STAMP" && "$(cat "$STAMP")" == "$RECIPE_HASH" ]]; then
  echo "build-rootfs: up to date ($RECIPE_HASH)" >&2
  echo "$ROOTFS"
  exit 0
fi

STAGING="$ROOTFS.staging"
rm -rf "$STAGING"
started=$(date +%s)
echo "build-rootfs: debootstrap $SUITE from $MIRROR into $STAGING" >&2
include=$(
  IFS=,
  echo "${PACKAGES[*]}"
)
debootstrap --variant=minbase --include="$include" "$SUITE" "$STAGING" "$MIRROR" >&2 ||
  die "debootstrap failed (see its output above; log in $STAGING/debootstrap/debootstrap.log)"

in_root() { chroot "$STAGING" "$@"; }

# Accounts: root cannot log in; `ubuntu` is the bootstrap user of the tests (sudo, key only).
in_root passwd -l root >/dev/null
in_root useradd -m -s /bin/bash ubuntu
# '*' (not '!'): no password login, but not "locked", so sshd accepts its keys.
in_root usermod -p '*' ubuntu
printf 'ubuntu ALL=(ALL) NOPASSWD:ALL\n' >"$STAGING/etc/sudoers.d/ubuntu"
chmod 0440 "$STAGING/etc/sudoers.d/ubuntu"

# Identity is per node: the harness writes machine-id, hostname and ssh host keys into
# each node's writable layer. Empty machine-id here = "not set" for systemd.
: >"$STAGING/etc/machine-id"
rm -f "$STAGING/var/lib/dbus/machine-id"
echo node >"$STAGING/etc/hostname"
printf '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n' >"$STAGING/etc/hosts"
rm -f "$STAGING"/etc/ssh/ssh_host_*
# One host key type: the harness pins ed25519, and making RSA keys at first boot costs
# seconds of CPU when ten nodes boot at once. Fallback for nodes booted without the
# harness: make the key at start. The ExecStartPre list is reset because Debian's own
# (`sshd -t`) fails without keys.
printf 'HostKey /etc/ssh/ssh_host_ed25519_key\n' >"$STAGING/etc/ssh/sshd_config.d/10-holdfast-lab.conf"
mkdir -p "$STAGING/etc/systemd/system/ssh.service.d"
cat >"$STAGING/etc/systemd/system/ssh.service.d/10-hostkeys.conf" <<'EOF'
[Service]
ExecStartPre=
ExecStartPre=/bin/sh -c 'test -e /etc/ssh/ssh_host_ed25519_key || ssh-keygen -q -t ed25519 -N "" -f /etc/ssh/ssh_host_ed25519_key'
ExecStartPre=/usr/sbin/sshd -t
EOF

# The container's resolver is its own; DHCP client scripts may rewrite it.
printf '# holdfast lab node: no resolver\n' >"$STAGING/etc/resolv.conf"
: >"$STAGING/etc/fstab"

# Boot quietly and fast: no gettys on the pipe console, no first-boot prompts, no timers
# that wake up apt, journal in memory only.
for unit in console-getty.service getty.target serial-getty@.service systemd-firstboot.service \
  apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer; do
  ln -sf /dev/null "$STAGING/etc/systemd/system/$unit"
done
mkdir -p "$STAGING/etc/systemd/journald.conf.d"
printf '[Journal]\nStorage=volatile\nRuntimeMaxUse=16M\n' >"$STAGING/etc/systemd/journald.conf.d/10-volatile.conf"
# Networking is the tests' business: no networkd/DHCP on pn0 unless a test sets it up.
rm -f "$STAGING/etc/systemd/system/multi-user.target.wants/systemd-networkd.service"

in_root apt-get clean
rm -rf "$STAGING"/var/lib/apt/lists/* "$STAGING"/var/cache/apt/*.bin "$STAGING/debootstrap"

echo "$RECIPE_HASH" >"$STAGING/.holdfast-rootfs-stamp"
# Nodes still booted from the previous tree keep using it (overlay lower dirs are held by
# reference, not path), so it is only set aside now and deleted at the next rebuild.
rm -rf "$ROOTFS.old"
[[ -e "$ROOTFS" ]] && mv "$ROOTFS" "$ROOTFS.old"
mv "$STAGING" "$ROOTFS"
echo "build-rootfs: built $ROOTFS in $(($(date +%s) - started)) s" >&2
echo "$ROOTFS"
