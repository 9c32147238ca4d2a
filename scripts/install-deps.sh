#!/usr/bin/env bash
# Installs everything holdfast's build, tests and lab need on a fresh Debian 12 (bookworm),
# then the npm dependencies. Run as root. Idempotent: the apt step is skipped when every
# package is already installed, and `npm ci` when the lock file has not changed since the
# last run.
#
#   scripts/install-deps.sh              apt packages + npm ci
#   scripts/install-deps.sh --apt-only   apt packages only
#   scripts/install-deps.sh --force-npm  run npm ci even if the lock file is unchanged
set -euo pipefail

# One package per line so other parts can add theirs with a one-line edit.
PACKAGES=(
  iproute2          # ip netns / link / addr: the lab and the agent's kernel backend
  util-linux        # unshare: dhcpcd runs in a private mount namespace
  kea-dhcp4-server  # the lab's DHCP server
  isc-dhcp-client   # dhclient adapter
  dhcpcd-base       # dhcpcd adapter; NOT "dhcpcd", whose service would run dhcpcd on every host NIC
  busybox           # udhcpc adapter
  iputils-arping    # RFC 5227 announce / conflict probes of the held address (agent, lab)
  tcpdump           # sees the announcements on the wire in namespace tests
  procps            # ps, pgrep for diagnostics in tests
  shellcheck        # lints rendered bootstrap scripts and DHCP hooks
  systemd           # systemd-analyze verify of rendered units
  systemd-container # systemd-nspawn: booted-node tests
  debootstrap       # builds the booted-node root filesystem
  openssh-client    # converge
  openssh-server    # sshd inside booted nodes (converge tests)
  ansible-core      # ansible-playbook: the rendered role's tests on booted nodes
  ansible-lint      # lints the rendered role (production profile)
  prometheus        # promtool: alert rule tests
  cloud-init        # cloud-init schema validation of rendered user-data
  chromium          # renders the lab's HTML report in tests
  qemu-system-x86   # holdfast prove: VMs with their own kernel (TCG when KVM does not work)
  e2fsprogs         # mkfs.ext4 -d: the prove image from a debootstrap tree
  dosfstools        # mkfs.vfat: prove's NoCloud seed disk (label CIDATA)
  mtools            # mcopy: user-data into the seed without mounting it
  curl
  ca-certificates
)

# Packages whose services must not run on this host because of us: the lab runs its own Kea
# inside namespaces, and a stray host DHCP server, Prometheus or sshd is nobody's intent.
HOST_SERVICES_TO_DISABLE=(
  "kea-dhcp4-server:kea-dhcp4-server.service"
  "kea-dhcp4-server:kea-ctrl-agent.service"
  "prometheus:prometheus.service"
  "openssh-server:ssh.service"
)

APT_ONLY=0
FORCE_NPM=0
for arg in "$@"; do
  case "$arg" in
    --apt-only) APT_ONLY=1 ;;
    --force-npm) FORCE_NPM=1 ;;
    *)
      echo "install-deps.sh: unknown argument: $arg (valid: --apt-only, --force-npm)" >&2
      exit 2
      ;;
  esac
done

if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps.sh: must run as root (apt-get, and the tests need root for namespaces)" >&2
  exit 1
fi

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

installed() {
  [[ $(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null) == "ii "* ]]
}

# Tests point ROOT at a scratch directory (with fake apt-get, dpkg-query, systemctl on PATH).
ROOT=${HOLDFAST_INSTALL_ROOT:-}
POLICY=$ROOT/usr/sbin/policy-rc.d
SAVED_POLICY=$ROOT/usr/sbin/policy-rc.d.holdfast-saved
OUR_POLICY=0
restore_policy() {
  if [[ $OUR_POLICY -eq 1 ]]; then
    rm -f "$POLICY"
    if [[ -e $SAVED_POLICY ]]; then
      mv -f "$SAVED_POLICY" "$POLICY"
    fi
    OUR_POLICY=0
  fi
}

install_packages() {
  local missing=()
  local pkg
  for pkg in "${PACKAGES[@]}"; do
    installed "$pkg" || missing+=("$pkg")
  done
  if [[ ${#missing[@]} -eq 0 ]]; then
    echo "install-deps.sh: all ${#PACKAGES[@]} Debian packages already installed"
    return
  fi
  echo "install-deps.sh: installing ${missing[*]}"

  # Exit status 101 = "action forbidden" (invoke-rc.d / deb-systemd-invoke): postinst scripts
  # may enable services but must not start them now. A policy already there (e.g. Docker's)
  # is set aside and put back afterwards, also when apt fails.
  if [[ -e $POLICY ]]; then
    mv -f "$POLICY" "$SAVED_POLICY"
  fi
  OUR_POLICY=1
  trap restore_policy EXIT
  printf '#!/bin/sh\n# holdfast install-deps.sh: no service starts during package installation\nexit 101\n' >"$POLICY"
  chmod 0755 "$POLICY"

  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"

  restore_policy

  # Services of packages this run installed stay off on the host for future boots too.
  local entry owner unit
  for entry in "${HOST_SERVICES_TO_DISABLE[@]}"; do
    owner=${entry%%:*}
    unit=${entry#*:}
    if [[ " ${missing[*]} " == *" $owner "* ]] && command -v systemctl >/dev/null; then
      systemctl disable --quiet "$unit" 2>/dev/null || true
    fi
  done
  # cloud-init is here to validate user-data, never to reconfigure this host at boot.
  if [[ " ${missing[*]} " == *" cloud-init "* ]]; then
    mkdir -p "$ROOT/etc/cloud"
    touch "$ROOT/etc/cloud/cloud-init.disabled"
  fi
}

# npm ci wipes node_modules, so it only runs when the lock file changed since the last run.
npm_install() {
  local dir=$1
  local stamp="$dir/node_modules/.holdfast-install-deps.sha256"
  if [[ ! -f $dir/package-lock.json ]]; then
    echo "install-deps.sh: no package-lock.json in $dir, running npm install"
    npm install --prefix "$dir" --no-audit --no-fund
    return
  fi
  local sum
  sum=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  if [[ $FORCE_NPM -eq 0 && -f $stamp && $(cat "$stamp") == "$sum" ]]; then
    echo "install-deps.sh: $dir/node_modules up to date"
    return
  fi
  npm ci --prefix "$dir" --no-audit --no-fund
  mkdir -p "$dir/node_modules"
  echo "$sum" >"$stamp"
}

install_packages

if [[ $APT_ONLY -eq 1 ]]; then
  exit 0
fi
if ! command -v npm >/dev/null; then
  echo "install-deps.sh: npm not found; install Node.js >= 20 (development) first" >&2
  exit 1
fi
npm_install "$REPO"
npm_install "$REPO/tools/node18"
