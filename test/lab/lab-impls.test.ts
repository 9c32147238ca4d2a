import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { seedLoopScript } from "../../src/lab/impls/seed-loop.js";
import { dhcpcdConfig } from "../../src/lab/impls/dhcpcd.js";
import { networkdUnit } from "../../src/lab/impls/networkd.js";
import { metadataRouteOption } from "../../src/lab/server.js";

describe("lab implementations", () => {
  it("GIVEN the seed-loop script THEN shellcheck finds nothing", () => {
    const dir = mkdtempSync(join(tmpdir(), "hflab-sc-"));
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

  it("GIVEN the seed-loop script THEN it does what the write-up says: dhclient -1 once, cache, stop, replace every 60 s", () => {
    const script = seedLoopScript();
    expect(script).toContain('dhclient -1 -4 -cf "$CONF" -sf /sbin/dhclient-script');
    expect(script).toContain('dhclient -x -cf "$CONF" -pf "$RUN/dhclient.pid" "$IF"');
    expect(script).toContain('ip addr replace "$cidr" dev "$IF"');
    expect(script).toContain('PERIOD="${5:-60}"');
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
