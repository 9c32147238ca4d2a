import { NODE_PATHS, generatedMarker } from "./paths.js";
import { shellQuote } from "./shell.js";

// Where Node.js lives on the distributions we bootstrap: distro packages, NodeSource,
// the official tarballs unpacked under /usr/local or /opt. Never a home directory: the
// unit's ProtectHome= hides them from the agent anyway.
export const DEFAULT_NODE_CANDIDATES: readonly string[] = [
  "/usr/bin/node",
  "/usr/bin/nodejs",
  "/usr/local/bin/node",
  "/opt/node*/bin/node",
  "/opt/nodejs*/bin/node",
  "/usr/lib/nodejs*/bin/node",
];

export const MIN_NODE_MAJOR = 18;

export interface LauncherOptions {
  /** @default /usr/local/lib/holdfast/holdfast.mjs */
  readonly bundlePath?: string;
  /** absolute paths or globs tried besides `node` / `nodejs` on PATH; @default DEFAULT_NODE_CANDIDATES */
  readonly nodeCandidates?: readonly string[];
}

/**
 * `/usr/local/bin/holdfast`: runs the bundle with the newest Node.js >= 18 on the machine.
 * `HOLDFAST_WHICH_NODE=1` prints the chosen node instead (the install script uses it to
 * decide whether Node.js must be installed); `HOLDFAST_NODE` forces one.
 * `HOLDFAST_NODE_OPTIONS` are options for node itself, split on spaces: the unit sets the
 * agent's there, because NODE_OPTIONS refuses `--no-expose-wasm`.
 */
export function renderLauncher(options: LauncherOptions = {}): string {
  const bundle = shellQuote(options.bundlePath ?? NODE_PATHS.bundle);
  // Globs stay unquoted on purpose so the shell expands them; they come from this module, never from a spec.
  const candidates = (options.nodeCandidates ?? DEFAULT_NODE_CANDIDATES).join(" ");
  return `#!/bin/sh
# ${generatedMarker("launcher for the holdfast bundle")}
# No "set" line: the install script and fragment carry this file, and a fragment must not
# show one; every step here checks what it needs instead.

bundle=${bundle}
min_major=${MIN_NODE_MAJOR}

# Prints "<sortable version> <major>" for a node binary, or nothing when it does not run.
# Parsed by the shell: this runs before every agent start, where each fork is boot time.
node_key() {
  version=$("$1" --version 2>/dev/null) || return 0
  case $version in v[0-9]*.[0-9]*.[0-9]*) ;; *) return 0 ;; esac
  version=\${version#v}
  major=\${version%%.*}
  minor=\${version#*.}
  patch=\${minor#*.}
  minor=\${minor%%.*}
  patch=\${patch%%[!0-9]*}
  case $major.$minor.$patch in *[!0-9.]* | *..* | .* | *.) return 0 ;; esac
  echo "$((major * 1000000 + minor * 1000 + patch)) $major"
}

# Each binary is asked once: \`node\` on PATH, /usr/bin/node and /usr/bin/nodejs are often one
# file, and every \`--version\` is a Node.js start (four of them took ~150 ms before each agent start).
# (\`-ef\`: the same file, links followed, without a fork; not POSIX, but dash, bash and
# busybox sh, every /bin/sh this runs under, have it.)
seen=""
best=""
best_key=0
consider() {
  [ -n "$1" ] && [ -x "$1" ] || return 0
  for earlier in $seen; do
    # shellcheck disable=SC3013
    [ "$1" -ef "$earlier" ] && return 0
  done
  seen="$seen $1"
  key_major=$(node_key "$1")
  [ -n "$key_major" ] || return 0
  [ "\${key_major#* }" -ge "$min_major" ] || return 0
  if [ "\${key_major% *}" -gt "$best_key" ]; then
    best=$1
    best_key=\${key_major% *}
  fi
}

if [ -n "\${HOLDFAST_NODE:-}" ]; then
  consider "$HOLDFAST_NODE"
else
  for name in node nodejs; do
    consider "$(command -v "$name" 2>/dev/null || true)"
  done
  for candidate in ${candidates}; do
    consider "$candidate"
  done
fi

if [ -z "$best" ]; then
  echo "holdfast: no Node.js >= $min_major found (tried \${HOLDFAST_NODE:-node, nodejs and ${candidates}})" >&2
  exit 127
fi
if [ "\${HOLDFAST_WHICH_NODE:-}" = 1 ]; then
  printf '%s\\n' "$best"
  exit 0
fi
# shellcheck disable=SC2086 # split on purpose: one option per word
exec "$best" \${HOLDFAST_NODE_OPTIONS:-} "$bundle" "$@"
`;
}
