import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { VmImage } from "./image.js";
import type { Accel } from "./vm.js";

// The kernel's first lines come within a second under KVM; a KVM that "works" but spins
// (seen on the dev machines: /dev/kvm opens, the vCPU never gets anywhere) prints nothing.
const PROBE_MS = 5000;
const KERNEL_STARTED = "Linux version";

/**
 * KVM when a probe shows it really runs a guest, else TCG. The probe boots the image's
 * kernel with no disk and no network, and looks for its banner on the serial console.
 */
export async function chooseAccel(image: VmImage): Promise<{ accel: Accel; why: string }> {
  if (process.env.HOLDFAST_PROVE_ACCEL === "tcg") return { accel: "tcg", why: "HOLDFAST_PROVE_ACCEL=tcg" };
  if (!existsSync("/dev/kvm")) return { accel: "tcg", why: "no /dev/kvm" };
  const dir = mkdtempSync(join(tmpdir(), "holdfast-kvm-probe-"));
  const log = join(dir, "console.log");
  const child = spawn(
    "qemu-system-x86_64",
    [
      "-accel",
      "kvm",
      "-cpu",
      "host",
      "-m",
      "256",
      "-nodefaults",
      "-no-user-config",
      "-display",
      "none",
      "-serial",
      `file:${log}`,
      "-kernel",
      image.kernel,
      "-append",
      "console=ttyS0 panic=-1",
      "-no-reboot",
    ],
    { stdio: "ignore" },
  );
  const started = Date.now();
  let seen = false;
  try {
    while (Date.now() - started < PROBE_MS && child.exitCode === null) {
      await sleep(200);
      if (existsSync(log) && readFileSync(log, "utf8").includes(KERNEL_STARTED)) {
        seen = true;
        break;
      }
    }
  } finally {
    child.kill("SIGKILL");
    await new Promise((done) => (child.exitCode === null ? child.once("close", done) : done(null)));
    rmSync(dir, { recursive: true, force: true });
  }
  return seen
    ? { accel: "kvm", why: `KVM printed the kernel banner in ${Date.now() - started} ms` }
    : { accel: "tcg", why: `KVM showed no kernel banner within ${PROBE_MS / 1000} s` };
}
