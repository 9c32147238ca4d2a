import { chmod, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DHCLIENT_SCRIPT, prepareDhclientSandbox, sandboxed } from "./dhclient-sandbox.js";
import type { Impl } from "./types.js";

/** The write-up's re-assert period. */
export const SEED_LOOP_PERIOD_S = 60;

/**
 * The fix as the write-up describes it, written from that description: DHCP once to
 * discover the address (retrying while IPAM lags), cache the CIDR, stop dhclient, then hold
 * the address with `ip addr replace` (no expiry), re-asserted every 60 s. The whole script
 * runs in the dhclient sandbox; CONF is the sandbox's dhclient.conf.
 */
export function seedLoopScript(): string {
  return `#!/bin/bash
# holdfast lab: the seed-loop fix as written up (DHCP once, cache, ip addr replace every ${SEED_LOOP_PERIOD_S} s)
set -u
IF="$1"; STATE="$2"; RUN="$3"; CONF="$4"; PERIOD="\${5:-${SEED_LOOP_PERIOD_S}}"
CACHE="$STATE/$IF.cidr"

ip link set "$IF" up
if [ ! -s "$CACHE" ]; then
  rm -f "$RUN/dhclient.pid"
  # -1: try once (60 s), exit 2 without a lease; retry while IPAM lags
  until dhclient -1 -4 -cf "$CONF" -sf ${DHCLIENT_SCRIPT} -lf "$STATE/dhclient.leases" -pf "$RUN/dhclient.pid" "$IF"; do
    sleep 5
  done
  cidr=$(ip -4 -o addr show dev "$IF" scope global | awk '{ print $4; exit }')
  printf '%s\\n' "$cidr" > "$CACHE.tmp" && mv "$CACHE.tmp" "$CACHE"
  # stop the backgrounded dhclient: from now on the address is held statically. It writes its
  # pid file after the foreground dhclient exits: wait for it, or -x finds nothing to stop
  for _ in $(seq 50); do [ -s "$RUN/dhclient.pid" ] && break; sleep 0.1; done
  dhclient -x -cf "$CONF" -pf "$RUN/dhclient.pid" "$IF"
fi
cidr=$(cat "$CACHE")
while :; do
  ip addr replace "$cidr" dev "$IF"
  sleep "$PERIOD"
done
`;
}

export const seedLoop: Impl = {
  name: "seed-loop",
  summary: `dhclient -1 once, cache the CIDR, ip addr replace every ${SEED_LOOP_PERIOD_S} s (the fix as written up)`,
  requires: [
    { command: "dhclient", pkg: "isc-dhcp-client" },
    { command: "bash", pkg: "bash" },
    { command: "unshare", pkg: "util-linux" },
  ],
  async prepare(ctx) {
    const script = join(ctx.dir, "seed-loop.sh");
    await writeFile(script, seedLoopScript());
    await chmod(script, 0o755);
    const sandbox = await prepareDhclientSandbox(ctx.dir, ctx.stateDir);
    return sandboxed(sandbox, "bash", [script, ctx.node.ifname, ctx.stateDir, ctx.runDir, sandbox.conf]);
  },
};
