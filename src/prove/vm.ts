import { spawn } from "node:child_process";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { HoldfastError } from "../errors.js";
import { isPidAlive } from "../util/process.js";
import type { VmImage } from "./image.js";
import { GuestAgent } from "./qga.js";

export type Accel = "kvm" | "tcg";

/**
 * cloud-init's base config for node VMs, from the kernel command line (`cc: … end_cc`); the
 * user's user-data overrides it. The image has no `locales`, and the locale module would fail
 * the status of a spec that sets none.
 */
export const NODE_BASE_CLOUD_CONFIG = "bootcmd: [[ip, link, set, eth0, up]]\nlocale: false";

/** One end of a point-to-point Ethernet link between two VMs: a unix datagram socket pair. */
export interface LinkEnd {
  readonly mac: string;
  /** this VM's socket */
  readonly local: string;
  /** the peer's socket */
  readonly remote: string;
}

export interface VmOptions {
  readonly name: string;
  readonly image: VmImage;
  readonly accel: Accel;
  readonly dir: string;
  readonly memoryMb: number;
  readonly links: readonly LinkEnd[];
  /** a NoCloud seed image (vfat, label CIDATA), or none: cloud-init is then disabled */
  readonly seed?: string;
  /** appended to the kernel command line */
  readonly cmdline?: readonly string[];
}

export interface Vm {
  readonly name: string;
  readonly pid: number;
  readonly agent: GuestAgent;
  readonly console: string;
  readonly monitor: string;
  readonly launchedAt: number;
}

/**
 * The qemu command line of a VM: the image's kernel and initrd, its root disk copy-on-write
 * (writes live as long as the qemu process, so a guest reboot keeps them and a run never
 * changes the cached image), NICs only on unix datagram sockets, and no other device.
 */
export function qemuArgs(options: VmOptions): string[] {
  const { image, dir, name } = options;
  const cmdline = [
    "root=/dev/vda",
    "rw",
    "console=ttyS0",
    // eth0, eth1 in link order, whatever the PCI layout: the spec's `parent: auto` finds it
    "net.ifnames=0",
    "panic=-1",
    // Lean boots under TCG (measured 96 s → 37 s to the guest agent, one VM, load 5): no
    // console chatter (each byte is an emulated UART write), no speculation mitigations
    // (these VMs have no network and run nothing untrusted), no audit, no calibration loops.
    "quiet",
    "mitigations=off",
    "audit=0",
    "tsc=reliable",
    "no_timer_check",
    "systemd.show_status=false",
    options.seed ? "ds=nocloud" : "cloud-init=disabled",
    // A server's primary NIC is also up before anything makes a VLAN on it (the distribution's
    // network config does that); the image has none, so cloud-init's bootcmd does it at every
    // boot. (systemd.run= cannot: it boots into its own unit instead of multi-user.target, and
    // cloud-init never ran.) URL-encoded, one token: the kernel hands no stray words to init.
    ...(options.seed ? [`cc:${encodeURIComponent(NODE_BASE_CLOUD_CONFIG)}`, "end_cc"] : []),
    ...(options.cmdline ?? []),
  ];
  const args = [
    "-name",
    name,
    "-machine",
    "pc",
    "-accel",
    options.accel,
    "-cpu",
    options.accel === "kvm" ? "host" : "max",
    "-smp",
    "1",
    "-m",
    String(options.memoryMb),
    "-nodefaults",
    "-no-user-config",
    "-display",
    "none",
    "-serial",
    `file:${join(dir, `${name}.console.log`)}`,
    "-monitor",
    `unix:${join(dir, `${name}.mon`)},server=on,wait=off`,
    "-kernel",
    image.kernel,
    "-initrd",
    image.initrd,
    "-append",
    cmdline.join(" "),
    "-drive",
    `file=${image.root},if=virtio,format=raw,snapshot=on`,
    "-chardev",
    `socket,id=qga,path=${join(dir, `${name}.qga`)},server=on,wait=off`,
    "-device",
    "virtio-serial-pci",
    "-device",
    "virtserialport,chardev=qga,name=org.qemu.guest_agent.0",
  ];
  if (options.seed) args.push("-drive", `file=${options.seed},if=virtio,format=raw,readonly=on`);
  options.links.forEach((link, i) => {
    args.push(
      "-netdev",
      `dgram,id=n${i},local.type=unix,local.path=${link.local},remote.type=unix,remote.path=${link.remote}`,
      "-device",
      `virtio-net-pci,netdev=n${i},mac=${link.mac}`,
    );
  });
  return args;
}

/** Starts qemu in its own session (so --keep can leave it running); the caller stops it by pid. */
export async function launchVm(options: VmOptions): Promise<Vm> {
  const child = spawn("qemu-system-x86_64", qemuArgs(options), {
    detached: true,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const pid = await new Promise<number>((resolve, reject) => {
    child.once("spawn", () => resolve(child.pid!));
    child.once("error", (error) =>
      reject(
        new HoldfastError("cannot start qemu-system-x86_64", {
          code: "failure",
          subject: options.name,
          details: ["install qemu-system-x86 (scripts/install-deps.sh)"],
          cause: error,
        }),
      ),
    );
  });
  child.unref();
  // qemu refuses a bad option or a missing file at once: catch that here, with its words.
  await sleep(500);
  if (child.exitCode !== null || !isPidAlive(pid)) {
    throw new HoldfastError("qemu exited at start", {
      code: "failure",
      subject: options.name,
      details: [stderr.trim() || `exit ${child.exitCode}`],
    });
  }
  child.stderr.destroy();
  return {
    name: options.name,
    pid,
    agent: new GuestAgent(join(options.dir, `${options.name}.qga`)),
    console: join(options.dir, `${options.name}.console.log`),
    monitor: join(options.dir, `${options.name}.mon`),
    launchedAt: Date.now(),
  };
}

/** SIGTERM (qemu exits at once), SIGKILL after a grace period; waits until the pid is gone. */
export async function stopVm(pid: number): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      // gone already
    }
  };
  signal("SIGTERM");
  for (let i = 0; i < 30 && isPidAlive(pid); i++) await sleep(100);
  if (isPidAlive(pid)) signal("SIGKILL");
  for (let i = 0; i < 30 && isPidAlive(pid); i++) await sleep(100);
}
