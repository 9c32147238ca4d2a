import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { HoldfastError } from "../errors.js";
import { bundlePath } from "../harness/bundle-path.js";

/** The cached VM image (scripts/build-vm-image.sh): root disk, kernel, initrd. */
export interface VmImage {
  readonly dir: string;
  readonly root: string;
  readonly kernel: string;
  readonly initrd: string;
  /** e.g. 6.1.0-41-cloud-amd64 */
  readonly kernelVersion: string;
}

/** The build script ships beside the bundle (dist/../scripts) in the repository and the package. */
export function buildScriptPath(): string {
  const fromEnv = process.env.HOLDFAST_VM_IMAGE_SCRIPT;
  if (fromEnv) return fromEnv;
  return resolve(dirname(bundlePath()), "..", "scripts", "build-vm-image.sh");
}

export function imageAt(dir: string): VmImage {
  return {
    dir,
    root: join(dir, "root.img"),
    kernel: join(dir, "vmlinuz"),
    initrd: join(dir, "initrd.img"),
    kernelVersion: readFileSync(join(dir, "kernel-version"), "utf8").trim(),
  };
}

/**
 * Builds the image if it is missing or its recipe changed, else returns the cached one at
 * once. The script's progress goes to `log`; a failure names the tool or mirror that failed.
 */
export async function ensureImage(log: (line: string) => void): Promise<VmImage> {
  const script = buildScriptPath();
  if (!existsSync(script)) {
    throw new HoldfastError("the VM image recipe is missing", {
      code: "failure",
      subject: script,
      details: ["set HOLDFAST_VM_IMAGE_SCRIPT to scripts/build-vm-image.sh of a holdfast checkout"],
    });
  }
  const child = spawn("bash", [script], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let tail: string[] = [];
  child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    for (const line of d.split("\n").filter(Boolean)) {
      if (line.startsWith("build-vm-image:")) log(line);
      tail = [...tail, line].slice(-15);
    }
  });
  const code = await new Promise<number | null>((done) => child.once("close", done));
  if (code !== 0) {
    throw new HoldfastError("building the VM image failed", {
      code: "failure",
      subject: script,
      details: tail,
    });
  }
  const dir = stdout.trim().split("\n").pop() ?? "";
  return imageAt(dir);
}
