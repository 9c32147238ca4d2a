import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bootNode, cleanStaleNodes, type BootedNode } from "../../src/harness/booted-node.js";
import { cgroupRoots } from "../../src/harness/nspawn-cgroup.js";
import { listNamespaces } from "../../src/harness/netns.js";
import { createTopology, type Topology } from "../../src/harness/topology.js";
import { authorizeKey, rootfsFor, makeSshKey, pinHostKey, sshTo } from "../helpers/booted-node.js";
import { uniquePrefix } from "../helpers/topology.js";

const rootfs = (await rootfsFor(import.meta.url)) ?? "";

const NODE_IP = "198.18.0.10";

function alive(pid: number): boolean {
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

describe.skipIf(rootfs === "")("booted node (systemd-nspawn in a lab node namespace)", () => {
  let topo: Topology;
  let workDir: string;
  let node: BootedNode;

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), "hf-booted-"));
    topo = await createTopology({
      prefix: uniquePrefix("bn"),
      workDir,
      nodes: [
        { name: "n1", ip: NODE_IP },
        { name: "n2", ip: "198.18.0.11" },
      ],
    });
    node = await bootNode({ rootfs, ns: topo.nodes[0]!.ns, name: "n1", workDir });
  }, 180_000);

  afterAll(async () => {
    await node?.destroy();
    await topo?.destroy();
    await rm(workDir, { recursive: true, force: true });
  }, 60_000);

  it("GIVEN a booted node THEN systemd is up, it is its own host and it sees the node's pn0", async () => {
    expect(await node.waitBooted()).toBe("running");
    expect((await node.exec("hostname", [])).stdout.trim()).toBe("n1");
    expect((await node.exec("cat", ["/etc/machine-id"])).stdout.trim()).toBe(node.identity.machineId);
    const link = await node.exec("ip", ["-o", "link", "show", "pn0"]);
    expect(link.stdout).toContain(topo.nodes[0]!.mac);
    expect((await node.exec("node", ["--version"])).stdout).toMatch(/^v18\./);
  });

  it("GIVEN the node's units THEN they may manage pn0 (CAP_NET_ADMIN inside the container)", async () => {
    // systemd-run: a real unit in the container, with the container's capabilities, not nsenter's
    const add = await node.exec("systemd-run", [
      "--wait",
      "--pipe",
      "--quiet",
      "ip",
      "addr",
      "add",
      "198.18.0.99/22",
      "dev",
      "pn0",
    ]);
    expect(add.stderr).toBe("");
    expect(await topo.nodes[0]!.addresses()).toEqual(["198.18.0.99/22"]);
    await node.exec("ip", ["addr", "flush", "dev", "pn0"]);
  });

  it("GIVEN Kea in the lab WHEN the incident's dhclient runs in the node THEN it gets the reserved address", async () => {
    const unit = ["--unit=incident-dhclient", "-p", "Restart=always", "dhclient", "-d", "-v", "pn0"];
    expect((await node.exec("systemd-run", unit)).code).toBe(0);
    try {
      let addresses: string[] = [];
      for (let i = 0; i < 100 && !addresses.includes(topo.nodes[0]!.cidr); i++) {
        await sleep(100);
        addresses = await topo.nodes[0]!.addresses();
      }
      expect(addresses).toEqual([`${NODE_IP}/22`]);
      const leases = await node.exec("cat", ["/var/lib/dhcp/dhclient.leases"]);
      expect(leases.stdout).toContain(`fixed-address ${NODE_IP};`);
    } finally {
      await node.exec("systemctl", ["stop", "incident-dhclient.service"]);
      await node.exec("ip", ["addr", "flush", "dev", "pn0"]);
    }
  });

  it("lets the runner in over ssh as ubuntu with passwordless sudo", async () => {
    await node.exec("ip", ["addr", "add", `${NODE_IP}/22`, "dev", "pn0"]);
    const key = await makeSshKey(workDir);
    await authorizeKey(node, "ubuntu", key.publicKey);
    const knownHosts = join(workDir, "known_hosts");
    await pinHostKey(knownHosts, NODE_IP, node);
    const ssh = sshTo({ from: topo.runner, address: NODE_IP, user: "ubuntu", key, knownHosts });

    const who = await ssh("id -un && sudo -n id -u");
    expect(who.stderr, "pinned host key and authorized key: no prompt, no warning").toBe("");
    expect(who.stdout, "ubuntu, and root through sudo -n").toBe("ubuntu\n0\n");
    // a bootstrap arrives like this: the script on stdin of a remote shell
    const piped = await ssh(
      "sudo -n bash -s",
      "set -eu\nmkdir -p /var/lib/holdfast\necho piped > /var/lib/holdfast/marker\n",
    );
    expect(piped.code).toBe(0);
    expect((await node.exec("cat", ["/var/lib/holdfast/marker"])).stdout).toBe("piped\n");
  });

  it("GIVEN a file in /var/lib WHEN the node reboots THEN it is a new boot and the file is still there", async () => {
    await node.exec("sh", ["-c", "echo kept > /var/lib/holdfast/survives; echo gone > /run/volatile"]);
    const bootId = (await node.exec("cat", ["/proc/sys/kernel/random/boot_id"])).stdout;
    const before = node.leaderPid;
    await node.reboot();
    expect(node.leaderPid).not.toBe(before);
    expect(alive(before)).toBe(false);
    expect((await node.exec("cat", ["/proc/sys/kernel/random/boot_id"])).stdout).not.toBe(bootId);
    expect((await node.exec("cat", ["/var/lib/holdfast/survives"])).stdout).toBe("kept\n");
    expect((await node.exec("test", ["-e", "/run/volatile"])).code).toBe(1);
    expect(await node.waitBooted()).toBe("running");
  });

  it("GIVEN a power cut THEN the node boots again from the same disk", async () => {
    const before = node.leaderPid;
    await node.reset();
    expect(node.leaderPid).not.toBe(before);
    expect((await node.exec("cat", ["/var/lib/holdfast/survives"])).stdout).toBe("kept\n");
  });

  it("cleans a dead run's node by prefix: processes and cgroups", async () => {
    const orphan = await bootNode({ rootfs, ns: topo.nodes[1]!.ns, name: "n2", workDir });
    const leader = orphan.leaderPid;
    expect(await cleanStaleNodes(`${topo.prefix}-n2`)).toEqual([orphan.machine]);
    expect(alive(leader), "the stale node's leader").toBe(false);
    expect(await topo.nodes[1]!.ns.pids(), "the stale node's processes").toEqual([]);
    for (const root of cgroupRoots())
      expect(existsSync(join(root, "holdfast-lab", orphan.machine)), `its cgroup in ${root}`).toBe(false);
    expect(node.leaderPid).toBeGreaterThan(0); // the other node is untouched
    await orphan.destroy();
  });

  it("destroy leaves no process, cgroup or directory, and the topology goes", async () => {
    const leader = node.leaderPid;
    const machine = node.machine;
    await node.destroy();
    await node.destroy(); // twice is fine
    expect(alive(leader), "the node's leader").toBe(false);
    expect(await topo.nodes[0]!.ns.pids(), "the node's processes").toEqual([]);
    expect(existsSync(node.dir), "the node's directory").toBe(false);
    for (const root of cgroupRoots())
      expect(existsSync(join(root, "holdfast-lab", machine)), `its cgroup in ${root}`).toBe(false);
    await topo.destroy();
    expect(
      (await listNamespaces()).filter((name) => name.startsWith(topo.prefix)),
      "the topology's namespaces",
    ).toEqual([]);
  });
});
