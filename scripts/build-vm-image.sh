#!/usr/bin/env bash
# Builds the disk image, kernel and initrd that `holdfast prove` boots with qemu (design §6):
# a Debian 12 root with systemd, cloud-init (NoCloud), Debian's cloud kernel and its modules,
# Node.js for the agent, Kea for the fabric VM and qemu-guest-agent as the control channel.
# Rebuilt only when missing or when this script (the recipe) changed.
#
#   HOLDFAST_VM_IMAGE   directory of the image (default /var/cache/holdfast-prove/bookworm)
#   HOLDFAST_MIRROR     Debian mirror (default: the first deb.debian.org-style URI in apt's sources)
#   --force             rebuild even when the stamp matches
#
# Prints the image directory on the last line of stdout. Needs root, debootstrap, mkfs.ext4.
# Every failure names the tool or the mirror that failed.
set -euo pipefail

OUT="${HOLDFAST_VM_IMAGE:-/var/cache/holdfast-prove/bookworm}"
SUITE=bookworm
PACKAGES=(
  systemd systemd-sysv dbus libpam-systemd udev
  kmod                     # minbase has none: modprobe, and modules-load.d at boot
  linux-image-cloud-amd64  # the VM's own kernel: 802.1Q, virtio; vmlinuz + initrd are copied out
  initramfs-tools          # named, not left to debootstrap's choice among alternatives
  cloud-init
  python3-cffi-backend     # cloud-init needs it; debootstrap does not resolve the virtual package
  qemu-guest-agent         # how prove runs commands in a VM: no network, no ssh
  nodejs                   # the agent (bookworm's 18.x) and the probe runner / cache stand-in
  isc-dhcp-client dhcpcd-base busybox iproute2 iputils-ping procps sudo
  kea-dhcp4-server         # the fabric VM's DHCP server
)
IMAGE_SIZE=3G

FORCE=0
[[ "${1:-}" == "--force" ]] && FORCE=1

die() {
  echo "build-vm-image: $*" >&2
  exit 1
}

[[ $(id -u) -eq 0 ]] || die "needs root (debootstrap and chroot)"
for tool in debootstrap mkfs.ext4 sha256sum flock; do
  command -v "$tool" >/dev/null || die "$tool is not installed (scripts/install-deps.sh installs it)"
done

find_mirror() {
  local uri
  uri=$(grep -hoE '^(URIs:|deb)[[:space:]]+(\[[^]]*\][[:space:]]+)?https?://[^[:space:]]+/debian/?([[:space:]]|$)' \
    /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null | grep -oE 'https?://[^[:space:]]+' | head -n1 || true)
  echo "${uri:-http://deb.debian.org/debian}"
}
MIRROR="${HOLDFAST_MIRROR:-$(find_mirror)}"

# The recipe is this whole script: any change to it rebuilds the image.
RECIPE_HASH=$(sha256sum "${BASH_SOURCE[0]}" | cut -d' ' -f1)
STAMP="$OUT/stamp"

mkdir -p "$(dirname "$OUT")"
exec 9>"$OUT.lock"
flock 9

if [[ $FORCE -eq 0 && -f "$STAMP" && "$(cat "$STAMP")" == "$RECIPE_HASH" ]]; then
  echo "build-vm-image: up to date ($RECIPE_HASH)" >&2
  echo "$OUT"
  exit 0
fi

STAGING="$OUT.staging"
TREE="$STAGING/tree"
cleanup() {
  for m in dev/pts dev proc sys; do
    mountpoint -q "$TREE/$m" 2>/dev/null && umount -l "$TREE/$m"
  done
  return 0
}
trap cleanup EXIT
cleanup
rm -rf "$STAGING"
mkdir -p "$STAGING"
started=$(date +%s)
include=$(
  IFS=,
  echo "${PACKAGES[*]}"
)
echo "build-vm-image: debootstrap $SUITE from $MIRROR into $TREE" >&2
debootstrap --variant=minbase --include="$include" "$SUITE" "$TREE" "$MIRROR" >&2 ||
  die "debootstrap from mirror $MIRROR failed (log: $TREE/debootstrap/debootstrap.log)"

KVER=$(find "$TREE/lib/modules" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -n1)
[[ -n "$KVER" ]] || die "linux-image-cloud-amd64 left no /lib/modules in the tree"
[[ -f "$TREE/boot/vmlinuz-$KVER" ]] || die "no /boot/vmlinuz-$KVER in the tree"
if [[ ! -f "$TREE/boot/initrd.img-$KVER" ]]; then
  mount -t proc proc "$TREE/proc" && mount --bind /dev "$TREE/dev" && mount -t sysfs sys "$TREE/sys"
  chroot "$TREE" update-initramfs -c -k "$KVER" >&2 || die "update-initramfs (initramfs-tools) failed for $KVER"
  cleanup
fi

# Accounts: nobody logs in; prove talks to the guest agent.
chroot "$TREE" passwd -l root >/dev/null
: >"$TREE/etc/machine-id"
rm -f "$TREE/var/lib/dbus/machine-id"
echo node >"$TREE/etc/hostname"
printf '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n' >"$TREE/etc/hosts"
printf '# holdfast prove VM: no resolver\n' >"$TREE/etc/resolv.conf"
printf '/dev/vda / ext4 rw,relatime 0 1\n' >"$TREE/etc/fstab"

# cloud-init: NoCloud only (the seed disk; `ds=nocloud` is also on the kernel command line),
# and no network config of its own: the PN is the spec's business, and the VM has no other NIC.
cat >"$TREE/etc/cloud/cloud.cfg.d/90-holdfast-prove.cfg" <<'EOF'
# holdfast prove image: the seed disk is the only datasource; networking is the spec's.
datasource_list: [NoCloud, None]
network: { config: disabled }
EOF

# Quiet, fast boots: no gettys, no timers, journal in memory; the serial console is a log.
for unit in getty.target serial-getty@.service systemd-firstboot.service apt-daily.timer \
  apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer man-db.timer \
  kea-dhcp4-server.service kea-ctrl-agent.service kea-dhcp-ddns-server.service isc-kea-dhcp4-server.service \
  systemd-networkd.service systemd-networkd-wait-online.service; do
  ln -sf /dev/null "$TREE/etc/systemd/system/$unit"
done
mkdir -p "$TREE/etc/systemd/journald.conf.d"
printf '[Journal]\nStorage=volatile\nRuntimeMaxUse=32M\n' >"$TREE/etc/systemd/journald.conf.d/10-volatile.conf"

# The cache stand-in and dependent of the PN (prove's `dependents` step): ordered after
# network-online.target, it binds the PN address the kernel command line names, port 8080,
# and serves /up. It fails when the address is not there yet. prove enables it from user-data,
# after the user's own steps, the way kubelet or a cache gets installed on a new server.
mkdir -p "$TREE/usr/local/lib/holdfast-prove"
cat >"$TREE/usr/local/lib/holdfast-prove/up-server.mjs" <<'EOF'
// holdfast prove: the cache stand-in. Binds <interface>'s IPv4 address at start, or fails.
import { createServer } from "node:http";
import { networkInterfaces } from "node:os";
const ifname = process.argv[2];
const ipv4 = (networkInterfaces()[ifname] ?? []).find((a) => a.family === "IPv4");
if (!ipv4) {
  console.error(`${ifname}: no IPv4 address at start`);
  process.exit(1);
}
createServer((_, res) => res.end("up\n")).listen(8080, ipv4.address, () =>
  console.log(`${ifname}: serving /up on ${ipv4.address}:8080`),
);
EOF
cat >"$TREE/etc/systemd/system/holdfast-prove-dependent@.service" <<'EOF'
[Unit]
Description=holdfast prove: a service that binds the PN address of %i (the cache stand-in)
Wants=network-online.target
After=network-online.target

[Service]
ExecStart=/usr/bin/node /usr/local/lib/holdfast-prove/up-server.mjs %i

[Install]
WantedBy=multi-user.target
EOF

chroot "$TREE" apt-get clean
rm -rf "$TREE"/var/lib/apt/lists/* "$TREE"/var/cache/apt/*.bin "$TREE/debootstrap"

cp "$TREE/boot/vmlinuz-$KVER" "$STAGING/vmlinuz"
cp "$TREE/boot/initrd.img-$KVER" "$STAGING/initrd.img"
echo "$KVER" >"$STAGING/kernel-version"
mkfs.ext4 -q -F -L holdfast-root -d "$TREE" "$STAGING/root.img" "$IMAGE_SIZE" ||
  die "mkfs.ext4 -d (e2fsprogs) could not write $STAGING/root.img"
rm -rf "$TREE"
echo "$RECIPE_HASH" >"$STAGING/stamp"

rm -rf "$OUT.old"
[[ -e "$OUT" ]] && mv "$OUT" "$OUT.old"
mv "$STAGING" "$OUT"
rm -rf "$OUT.old"
echo "build-vm-image: built $OUT (kernel $KVER) in $(($(date +%s) - started)) s" >&2
echo "$OUT"
