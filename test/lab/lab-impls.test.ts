import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { seedLoopScript } from "../../src/lab/impls/seed-loop.js";
import { dhcpcdConfig } from "../../src/lab/impls/dhcpcd.js";
import { networkdUnit } from "../../src/lab/impls/networkd.js";
import { metadataRouteOption } from "../../src/harness/kea-options.js";
import { scratchDir } from "../helpers/scratch.js";

/**
 * Fakes for one module's unit test: dhclient fails its first -1 attempt (IPAM lag), then
 * "binds" and writes its pid file; ip prints the bound address; sleep is short. Each logs
 * its command line to <dir>/calls.
 */
const FAKES: Record<string, string> = {
  dhclient: `echo "dhclient $*" >> "$CALLS"
case " $* " in *" -1 "*)
  n=$(( $(cat "$FAKE_DIR/attempts" 2>/dev/null || echo 0) + 1 )); echo "$n" > "$FAKE_DIR/attempts"
  [ "$n" -ge 2 ] || exit 2
  while [ "$1" != -pf ]; do shift; done; echo 4242 > "$2" ;;
esac`,
  ip: `echo "ip $*" >> "$CALLS"
[ "$1" = -4 ] && echo "3: pn0    inet 198.18.0.10/22 brd 198.18.3.255 scope global pn0"
exit 0`,
  sleep: "exec /bin/sleep 0.02",
};

/** Runs the seed-loop script against the fakes until it has re-asserted twice; returns the calls. */
async function runSeedLoop(dir: string): Promise<string[]> {
  const bin = join(dir, "bin");
  mkdirSync(bin, { recursive: true });
  for (const [name, body] of Object.entries(FAKES)) {
    writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  }
  for (const sub of ["state", "run"]) mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(join(dir, "seed-loop.sh"), seedLoopScript());
  const calls = join(dir, "calls");
  const args = [
    join(dir, "seed-loop.sh"),
    "pn0",
    join(dir, "state"),
    join(dir, "run"),
    join(dir, "dhclient.conf"),
    "0",
  ];
  const child = spawn("bash", args, {
    env: { PATH: `${bin}:/usr/bin:/bin`, CALLS: calls, FAKE_DIR: dir },
    stdio: "ignore",
  });
  const read = (): string[] => (existsSync(calls) ? readFileSync(calls, "utf8").trim().split("\n") : []);
  try {
    for (let i = 0; i < 200; i++) {
      if (read().filter((line) => line.startsWith("ip addr replace")).length >= 2) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    child.kill("SIGKILL");
  }
  return read();
}

describe("lab implementations", () => {
  it("GIVEN the seed-loop script THEN shellcheck finds nothing", () => {
    const dir = scratchDir("hflab-sc-");
    try {
      const file = join(dir, "seed-loop.sh");
      writeFileSync(file, seedLoopScript());
      const r = spawnSync("shellcheck", ["-s", "bash", file], { encoding: "utf8" });
      expect(r.error).toBeUndefined();
      expect(r.stdout).toBe("");
      expect(r.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("runs the seed loop through IPAM lag, then from its cache alone after a reboot", async () => {
    const dir = scratchDir("hflab-sl-");
    try {
      const run = (): Promise<string[]> => runSeedLoop(dir);
      const first = await run();
      const dhclientCalls = first.filter((line) => line.startsWith("dhclient"));
      expect(dhclientCalls, "IPAM lags one attempt: dhclient -1 twice, then -x").toEqual([
        `dhclient -1 -4 -cf ${dir}/dhclient.conf -sf /sbin/dhclient-script -lf ${dir}/state/dhclient.leases -pf ${dir}/run/dhclient.pid pn0`,
        `dhclient -1 -4 -cf ${dir}/dhclient.conf -sf /sbin/dhclient-script -lf ${dir}/state/dhclient.leases -pf ${dir}/run/dhclient.pid pn0`,
        `dhclient -x -cf ${dir}/dhclient.conf -pf ${dir}/run/dhclient.pid pn0`,
      ]);
      expect(first[0]).toBe("ip link set pn0 up");
      expect(
        first.filter((line) => line === "ip addr replace 198.18.0.10/22 dev pn0").length,
      ).toBeGreaterThanOrEqual(2);
      // dhclient is stopped before the static hold starts
      expect(first.indexOf("ip addr replace 198.18.0.10/22 dev pn0")).toBeGreaterThan(
        first.indexOf(dhclientCalls[2]!),
      );
      expect(readFileSync(join(dir, "state", "pn0.cidr"), "utf8"), "the CIDR is cached").toBe(
        "198.18.0.10/22\n",
      );

      // a reboot: the run dir is wiped, the state dir (disk) and its cache survive
      rmSync(join(dir, "run"), { recursive: true });
      mkdirSync(join(dir, "run"));
      rmSync(join(dir, "calls"));
      const second = await run();
      expect(
        second.filter((line) => line.startsWith("dhclient")),
        "after a reboot: no dhclient",
      ).toEqual([]);
      expect(second, "after a reboot: the cache alone").toContain("ip addr replace 198.18.0.10/22 dev pn0");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("GIVEN dhcpcd and networkd configs THEN they hold past lease expiry and run no host hooks", () => {
    expect(dhcpcdConfig().split("\n")).toEqual(
      expect.arrayContaining(["persistent", "lastleaseextend", "script /bin/true", "noipv4ll"]),
    );
    expect(networkdUnit("pn0")).toContain("KeepConfiguration=dhcp");
    expect(networkdUnit("pn0")).toContain("UseHostname=no");
  });

  it("GIVEN the metadata route THEN it is RFC 3442 169.254.169.254/32 via 198.18.0.1", () => {
    expect(metadataRouteOption()).toEqual({ code: 121, "csv-format": false, data: "20a9fea9fec6120001" });
  });
});
