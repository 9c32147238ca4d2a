import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { spawn, type ChildProcess } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLIENT_PIDS_LIB } from "../../src/render/client-pids.js";
import { DHCPCD_MANAGER_FIND_LIB } from "../../src/render/dhcpcd-manager.js";
import { run } from "../../src/util/exec.js";

/*
 * The finders against real processes named dhcpcd (a copy of `sleep` called dhcpcd, started
 * with the titles and command lines dhcpcd has): a manager serving every interface, titled by
 * privilege separation or not, is told apart from a client serving one interface.
 */
describe("dhcpcd manager finder", () => {
  let dir: string;
  const running: { title: string; proc: ChildProcess }[] = [];

  /** a process named dhcpcd whose whole command line is `title`, as privilege separation sets it */
  const titled = (title: string): void => {
    const proc = spawn("bash", ["-c", `exec -a "$0" ${join(dir, "bin", "dhcpcd")} 600`, title], {
      stdio: "ignore",
    });
    running.push({ title, proc });
  };

  /** a process named dhcpcd run as typed, e.g. `dhcpcd -q -b` (a build without privilege separation) */
  const typed = (...args: string[]): void => {
    const proc = spawn(join(dir, "script", "dhcpcd"), args, { stdio: "ignore", detached: true });
    running.push({ title: ["dhcpcd", ...args].join(" "), proc });
  };

  const finder = async (call: string): Promise<number[]> => {
    const script = `holdfast_as_root() { "$@"; }\n${CLIENT_PIDS_LIB}\n${DHCPCD_MANAGER_FIND_LIB}\nholdfast_dhcpcd_conf=${join(dir, "dhcpcd.conf")}\n${call}\n`;
    const result = await run("bash", ["-c", script], { timeoutMs: 60_000 });
    expect(result.code, result.stderr).toBe(0);
    return result.stdout
      .split(/\s+/)
      .filter(Boolean)
      .map((w) => Number(w.split(":")[0]));
  };

  const pidOf = (title: string): number => running.find((r) => r.title === title)!.proc.pid!;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hf-dhcpcd-finder-"));
    await mkdir(join(dir, "bin"));
    await mkdir(join(dir, "script"));
    await copyFile("/bin/sleep", join(dir, "bin", "dhcpcd"));
    // a script keeps its own name as the process name; its sleep is a child in its group
    await writeFile(join(dir, "script", "dhcpcd"), "#!/bin/bash\nsleep 600 &\nwait\n", { mode: 0o755 });
  });

  afterAll(async () => {
    for (const r of running) {
      // the scripts lead their own group (detached): the group goes, their sleep with it
      if (r.title.startsWith("dhcpcd ")) process.kill(-r.proc.pid!, "SIGKILL");
      else r.proc.kill("SIGKILL");
    }
    await rm(dir, { recursive: true, force: true });
  });

  it("tells a manager (no interface argument) from a client serving lo alone", async () => {
    const titles = {
      manager: "dhcpcd: [manager] [ip4] [ip6]",
      master: "dhcpcd: [master] [ip4]",
      helper: "dhcpcd: [BPF ARP] lo 127.0.0.1",
      perInterface: "dhcpcd: lo [ip4]",
    };
    for (const title of Object.values(titles)) titled(title);
    typed("-q", "-b");
    typed("-B", "lo");
    await new Promise((resolve) => setTimeout(resolve, 300));
    const managers = await finder("holdfast_dhcpcd_manager_pids");
    expect(managers.sort(), "privsep titles of a manager, and dhcpcd -q -b naming no interface").toEqual(
      [pidOf(titles.manager), pidOf(titles.master), pidOf("dhcpcd -q -b")].sort(),
    );
    expect(managers, "a helper or a per-interface client is no manager").not.toContain(pidOf(titles.helper));
    expect(managers).not.toContain(pidOf(titles.perInterface));
    const clients = await finder("holdfast_client_pids dhcpcd lo");
    expect(clients.sort(), "the per-interface clients serve lo alone").toEqual(
      [pidOf(titles.perInterface), pidOf("dhcpcd -B lo")].sort(),
    );
  });

  it("GIVEN denyinterfaces lo in dhcpcd.conf THEN no manager serves lo", async () => {
    const served = await finder("holdfast_dhcpcd_manager_of lo");
    expect(served.length, "a manager serves lo before it is denied").toBe(1);
    await run("sh", ["-c", `printf 'persistent\\ndenyinterfaces eth7 lo\\n' > ${join(dir, "dhcpcd.conf")}`], {
      timeoutMs: 5000,
    });
    expect(await finder("holdfast_dhcpcd_manager_of lo")).toEqual([]);
    expect((await finder("holdfast_dhcpcd_manager_of eth0")).length, "eth0 is not denied").toBe(1);
  });
});
