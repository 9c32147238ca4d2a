#!/usr/bin/env bash
# Builds the Debian 12 root filesystem the lab boots with systemd-nspawn ("booted
# nodes", design §5). Rebuilt only when missing or when the recipe below changed.
#
#   HOLDFAST_ROOTFS   where the rootfs lives (default /var/cache/holdfast-lab/rootfs-bookworm)
#   HOLDFAST_MIRROR   Debian mirror (default: the first deb.debian.org-style URI in apt's sources)
#   --force           rebuild even when the stamp matches
#   --variant NAME    also build <rootfs>-NAME: the same tree plus the variant's packages,
#                     installed into a copy with apt instead of a second debootstrap:
#                       managers  ifupdown, NetworkManager, netplan and Debian's dhcpcd.service
#                                 (the adoption matrix's starting points)
#                       ansible   python3, which Ansible's modules run on (the role's tests)
#
# Prints the rootfs path (the variant's, with --variant) on the last line of stdout. Needs
# root and debootstrap.
set -euo pipefail

ROOTFS="${HOLDFAST_ROOTFS:-/var/cache/holdfast-lab/rootfs-bookworm}"
SUITE=bookworm
# Everything a node needs: a real systemd, Node.js for the agent (bookworm's 18.x is the
# oldest Node the bundle supports), the incident's dhclient, sshd + sudo for converge.
PACKAGES=(
  systemd systemd-sysv dbus libpam-systemd
  nodejs
  isc-dhcp-client dhcpcd-base busybox iproute2 iputils-ping
  openssh-server sudo procps ca-certificates curl
)
# Bump when the preparation steps below change so cached trees get rebuilt.
PREP_VERSION=3

FORCE=0
VARIANT=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --force) FORCE=1 ;;
    --variant)
      VARIANT="${2:-}"
      shift
      ;;
    *)
      echo "build-rootfs: unknown argument $1" >&2
      exit 2
      ;;
  esac
  shift
done
# What each variant adds. managers: the network managers a live node may start from
# (`dhcpcd` is Debian's dhcpcd.service, one dhcpcd serving every interface, around the base
# tree's dhcpcd-base). ansible: a managed node for Ansible, whose modules are Python.
case "$VARIANT" in
  "") VARIANT_PACKAGES=() ;;
  managers) VARIANT_PACKAGES=(ifupdown network-manager netplan.io dhcpcd) ;;
  ansible) VARIANT_PACKAGES=(python3) ;;
  *)
    echo "build-rootfs: unknown variant $VARIANT (known: managers, ansible)" >&2
    exit 2
    ;;
esac
# Bump when the variant's preparation below changes.
VARIANT_PREP_VERSION=2

die() {
  echo "build-rootfs: $*" >&2
  exit 1
}

[[ $(id -u) -eq 0 ]] || die "needs root (debootstrap and chroot)"
# What builds the tree (debootstrap, chroot, flock) and what boots and reaches its nodes
# (systemd-nspawn, nsenter, ssh-keygen): a missing one is named here, not deep in a test.
for tool in debootstrap chroot flock systemd-nspawn nsenter ssh-keygen; do
  command -v "$tool" >/dev/null || die "$tool is not installed (bash scripts/install-deps.sh --apt-only installs it)"
done

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

# A variant: a copy of the base tree with VARIANT_PACKAGES installed from the same mirror
# (seconds to a minute, instead of a second debootstrap). Every manager is installed but not
# enabled: a node runs only what its test starts, as in the base tree.
build_variant() {
  local base_hash variant="$ROOTFS-$VARIANT" hash stage started
  base_hash=$(cat "$STAMP")
  hash=$(printf '%s\n' "$base_hash" "$VARIANT_PREP_VERSION" "${VARIANT_PACKAGES[@]}" | sha256sum | cut -d' ' -f1)
  if [[ $FORCE -eq 0 && -f "$variant/.holdfast-rootfs-stamp" && "$(cat "$variant/.holdfast-rootfs-stamp")" == "$hash" ]]; then
    echo "build-rootfs: $variant up to date ($hash)" >&2
    echo "$variant"
    return 0
  fi
  started=$(date +%s)
  stage="$variant.staging"
  # a run killed mid-install may have left its /proc mounted: never let rm walk into it
  umount "$stage/proc" 2>/dev/null || true
  rm -rf --one-file-system "$stage"
  cp -a --reflink=auto "$ROOTFS" "$stage"
  # apt needs a resolver for the mirror while it installs; the node's own comes back after
  cp /etc/resolv.conf "$stage/etc/resolv.conf"
  # no service starts inside the chroot (policy-rc.d 101: "action not allowed")
  printf '#!/bin/sh\nexit 101\n' >"$stage/usr/sbin/policy-rc.d"
  chmod 0755 "$stage/usr/sbin/policy-rc.d"
  mount -t proc proc "$stage/proc"
  local rc=0
  chroot "$stage" env DEBIAN_FRONTEND=noninteractive apt-get -q update >&2 &&
    chroot "$stage" env DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends \
      "${VARIANT_PACKAGES[@]}" >&2 || rc=$?
  umount "$stage/proc"
  [[ $rc -eq 0 ]] || die "apt-get install ${VARIANT_PACKAGES[*]} into $stage failed"
  rm -f "$stage/usr/sbin/policy-rc.d"
  printf '# holdfast lab node: no resolver\n' >"$stage/etc/resolv.conf"
  # installed, not running: each test enables the one it starts from
  for unit in NetworkManager.service NetworkManager-wait-online.service NetworkManager-dispatcher.service \
    networking.service systemd-networkd.service dhcpcd.service; do
    chroot "$stage" systemctl disable --quiet "$unit" 2>/dev/null || true
  done
  chroot "$stage" apt-get clean
  rm -rf "$stage"/var/lib/apt/lists/* "$stage"/var/cache/apt/*.bin
  echo "$hash" >"$stage/.holdfast-rootfs-stamp"
  rm -rf "$variant.old"
  [[ -e "$variant" ]] && mv "$variant" "$variant.old"
  mv "$stage" "$variant"
  echo "build-rootfs: built $variant in $(($(date +%s) - started)) s" >&2
  echo "$variant"
}

if [[ $FORCE -eq 0 && -f "$STAMP" && "$(cat "$STAMP")" == "$RECIPE_HASH" ]]; then
  echo "build-rootfs: up to date ($RECIPE_HASH)" >&2
  if [[ -n "$VARIANT" ]]; then build_variant; else echo "$ROOTFS"; fi
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
  die "debootstrap of $SUITE from mirror $MIRROR failed (its output is above; log in $STAGING/debootstrap/debootstrap.log; HOLDFAST_MIRROR picks another mirror)"

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
if [[ -n "$VARIANT" ]]; then build_variant; else echo "$ROOTFS"; fi
