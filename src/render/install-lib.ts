/**
 * The install script's fixed bash functions: files, Node.js, the bundle. They read only
 * the `holdfast_*` variables the renderer writes above them (all single-quoted data) and
 * the `holdfast_content_*` functions (quoted heredocs), never a spec value as code.
 *
 * Every step checks its own result (`|| return 1`) instead of relying on `set -e`: the
 * same text runs as the script (with `set -euo pipefail`) and as a fragment spliced into
 * someone else's bootstrap, which may not set it, and `set -e` is off inside a function
 * called from a condition anyway.
 */
export const INSTALL_FILES_LIB = `holdfast_log() {
  printf 'holdfast: %s: %s\\n' "$holdfast_node" "$*" >&2
}

holdfast_as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n -- "$@"; fi
}

holdfast_require_root() {
  [ "$(id -u)" = 0 ] && return 0
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then return 0; fi
  holdfast_log "needs root: run as root or as a user with passwordless sudo (node.bootstrapUser is $holdfast_bootstrap_user, running as $(id -un))"
  return 1
}

holdfast_changed() {
  holdfast_changes=$((holdfast_changes + 1))
  holdfast_log "changed: $1"
}

# holdfast_put_file PATH MODE SOURCE: installs SOURCE as PATH (root-owned, atomically by
# rename) unless PATH already has that content and mode.
holdfast_put_file() {
  if holdfast_as_root cmp -s "$3" "$1" 2>/dev/null && [ "$(holdfast_as_root stat -c %a "$1")" = "\${2#0}" ]; then
    return 0
  fi
  holdfast_as_root mkdir -p "\${1%/*}" || return 1
  holdfast_as_root install -o 0 -g 0 -m "$2" "$3" "$1.holdfast-new" || return 1
  holdfast_as_root mv -f "$1.holdfast-new" "$1" || return 1
  holdfast_changed "$1"
}

# holdfast_put PATH MODE CONTENT_FUNCTION
holdfast_put() {
  "$3" >"$holdfast_tmp/put" || { holdfast_log "cannot render $1"; return 1; }
  holdfast_put_file "$1" "$2" "$holdfast_tmp/put"
}

holdfast_install_packages() {
  if command -v apt-get >/dev/null 2>&1; then
    holdfast_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >&2 && return 0
    holdfast_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 || return 1
    holdfast_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >&2
  elif command -v dnf >/dev/null 2>&1; then
    holdfast_as_root dnf install -y -q "$@" >&2
  elif command -v yum >/dev/null 2>&1; then
    holdfast_as_root yum install -y -q "$@" >&2
  elif command -v zypper >/dev/null 2>&1; then
    holdfast_as_root zypper --non-interactive install "$@" >&2
  elif command -v apk >/dev/null 2>&1; then
    holdfast_as_root apk add --no-cache "$@" >&2
  else
    holdfast_log "no package manager (apt-get, dnf, yum, zypper, apk) to install $*"
    return 1
  fi
}

# The launcher's own search decides which node runs the agent; ask it.
holdfast_find_node() {
  holdfast_node_bin=$(HOLDFAST_WHICH_NODE=1 "$holdfast_path_launcher" 2>/dev/null) || holdfast_node_bin=""
  [ -n "$holdfast_node_bin" ]
}

holdfast_ensure_node() {
  holdfast_find_node && return 0
  holdfast_log "no Node.js >= 18: installing the distribution's nodejs"
  holdfast_install_packages nodejs || return 1
  holdfast_changed "package nodejs"
  holdfast_find_node && return 0
  holdfast_log "the distribution's Node.js is older than 18 ($(node --version 2>/dev/null || nodejs --version 2>/dev/null || echo none)): install Node.js >= 18 (e.g. from NodeSource) and run again"
  return 1
}

# RFC 5227 announcements and conflict probes go through arping (iputils, or busybox's
# applet). Without it the agent still holds the address and says detection is unavailable,
# so a host where it cannot be installed is told, not failed.
holdfast_ensure_arping() {
  command -v arping >/dev/null 2>&1 && return 0
  [ -x /usr/sbin/arping ] || [ -x /sbin/arping ] && return 0
  command -v busybox >/dev/null 2>&1 && busybox --list 2>/dev/null | grep -qx arping && return 0
  holdfast_log "no arping: installing it (address conflict detection, RFC 5227)"
  if command -v apt-get >/dev/null 2>&1; then
    holdfast_install_packages iputils-arping || { holdfast_log "could not install arping: the agent holds the address without conflict detection"; return 0; }
  else
    holdfast_install_packages iputils || { holdfast_log "could not install arping: the agent holds the address without conflict detection"; return 0; }
  fi
  holdfast_changed "package arping"
}

holdfast_bundle_ok() {
  [ -f "$1" ] && printf '%s  %s\\n' "$holdfast_bundle_sha256" "$1" | sha256sum -c --status >/dev/null 2>&1
}

# Stages the bundle (verified before use) in $holdfast_tmp, then installs it.
holdfast_install_bundle() {
  local staged="$holdfast_tmp/holdfast.mjs" tarball
  case "$holdfast_install_mode" in
    embedded)
      holdfast_bundle_ok "$holdfast_path_bundle" && return 0
      holdfast_content_bundle_base64 | base64 -d >"$staged" || { holdfast_log "cannot decode the embedded agent bundle"; return 1; }
      holdfast_bundle_ok "$staged" || { holdfast_log "embedded agent bundle is corrupt: sha256 is not $holdfast_bundle_sha256"; return 1; }
      ;;
    present)
      holdfast_bundle_ok "$holdfast_path_bundle" && return 0
      holdfast_log "$holdfast_path_bundle: missing or its sha256 is not $holdfast_bundle_sha256"
      return 1
      ;;
    npm)
      [ "$("$holdfast_path_launcher" --version 2>/dev/null)" = "$holdfast_version" ] && return 0
      if ! command -v npm >/dev/null 2>&1; then
        holdfast_install_packages npm || return 1
        holdfast_changed "package npm"
      fi
      tarball=$(cd "$holdfast_tmp" && npm pack --silent "$holdfast_npm_package") || { holdfast_log "npm pack $holdfast_npm_package failed"; return 1; }
      tar -xzf "$holdfast_tmp/$tarball" -C "$holdfast_tmp" package/dist/holdfast.mjs || return 1
      staged="$holdfast_tmp/package/dist/holdfast.mjs"
      ;;
    *)
      holdfast_log "unknown install mode $holdfast_install_mode"
      return 1
      ;;
  esac
  holdfast_put_file "$holdfast_path_bundle" 0644 "$staged"
}

holdfast_make_directories() {
  local dir
  for dir in \${holdfast_directories[@]+"\${holdfast_directories[@]}"}; do
    [ -d "$dir" ] && continue
    holdfast_as_root install -d -o 0 -g 0 -m 0755 "$dir" || return 1
    holdfast_changed "$dir"
  done
}
`;
