import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { dhclientExchange } from "../../src/dhcp/dhclient.js";
import { dhcpcdExchange } from "../../src/dhcp/dhcpcd.js";
import { renderHook, writeHook } from "../../src/dhcp/hook.js";
import { udhcpcExchange } from "../../src/dhcp/udhcpc.js";
import { run } from "../../src/util/exec.js";

const dirs: string[] = [];
const scratch = async (): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), "hf-hook-"));
  dirs.push(dir);
  return dir;
};
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe("DHCP hook scripts", () => {
  it.each([udhcpcExchange, dhcpcdExchange, dhclientExchange])(
    "GIVEN the $client hook THEN shellcheck finds nothing",
    async (spec) => {
      const dir = await scratch();
      const { hookPath } = await writeHook(join(dir), spec.hook);
      const result = await run("shellcheck", ["-s", "sh", hookPath], { timeoutMs: 20_000 });
      expect(result.stdout + result.stderr).toBe("");
      expect(result.code).toBe(0);
    },
  );

  it("GIVEN a path with a quote THEN it is quoted for sh", () => {
    expect(renderHook(udhcpcExchange.hook, "/tmp/it's/lease.env")).toContain(`out='/tmp/it'\\''s/lease.env'`);
  });

  it("GIVEN udhcpc's deconfig event THEN the hook writes nothing; GIVEN bound THEN it writes the lease", async () => {
    const dir = await scratch();
    const { hookPath, leasePath } = await writeHook(dir, udhcpcExchange.hook);
    const env = { PATH: process.env.PATH, ip: "198.18.0.10", mask: "22", interface: "pn0" };
    expect((await run(hookPath, ["deconfig"], { env, timeoutMs: 5000 })).code).toBe(0);
    await expect(readFile(leasePath, "utf8")).rejects.toThrow(/ENOENT/);
    expect((await run(hookPath, ["bound"], { env, timeoutMs: 5000 })).code).toBe(0);
    const text = await readFile(leasePath, "utf8");
    expect(text).toContain("reason=bound\n");
    expect(text).toContain("ip=198.18.0.10\n");
    expect(text).toContain("mask=22\n");
  });

  it("GIVEN dhclient's hook with BOUND THEN it writes the lease and ends its own process group", async () => {
    const dir = await scratch();
    const { hookPath, leasePath } = await writeHook(dir, dhclientExchange.hook);
    // a stand-in for dhclient: a long sleep in the same group as the hook
    const env = { PATH: process.env.PATH, reason: "BOUND", new_ip_address: "198.18.0.10" };
    const result = await run("sh", ["-c", `sleep 30 & "$0"; wait`, hookPath], { env, timeoutMs: 10_000 });
    expect(result.timedOut).toBe(false);
    expect(result.signal).toBe("SIGKILL");
    expect(await readFile(leasePath, "utf8")).toContain("new_ip_address=198.18.0.10\n");
  });

  it("GIVEN dhclient's hook with STOP or EXPIRE THEN it does nothing at all", async () => {
    const dir = await scratch();
    const { hookPath, leasePath } = await writeHook(dir, dhclientExchange.hook);
    for (const reason of ["PREINIT", "STOP", "EXPIRE", "RELEASE", "FAIL"]) {
      const result = await run(hookPath, [], { env: { PATH: process.env.PATH, reason }, timeoutMs: 5000 });
      expect(result.code).toBe(0);
    }
    await expect(readFile(leasePath, "utf8")).rejects.toThrow(/ENOENT/);
  });
});
