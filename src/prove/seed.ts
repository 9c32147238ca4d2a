import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { HoldfastError } from "../errors.js";

const run = promisify(execFile);

/**
 * A NoCloud seed disk: a vfat image labelled CIDATA with user-data and meta-data, made with
 * mkfs.vfat and mcopy (no mount, no loop device).
 */
export async function writeSeed(
  dir: string,
  name: string,
  userData: string,
  hostname: string,
): Promise<string> {
  const image = join(dir, `${name}.seed.img`);
  const userFile = join(dir, `${name}.user-data`);
  const metaFile = join(dir, `${name}.meta-data`);
  writeFileSync(userFile, userData);
  writeFileSync(metaFile, `instance-id: holdfast-prove-${name}\nlocal-hostname: ${hostname}\n`);
  const step = async (tool: string, args: string[], pkg: string) => {
    try {
      await run(tool, args);
    } catch (error) {
      throw new HoldfastError(`cannot make the NoCloud seed with ${tool}`, {
        code: "failure",
        subject: image,
        details: [`install ${pkg} (scripts/install-deps.sh)`, String((error as Error).message).trim()],
        cause: error,
      });
    }
  };
  // 16 MiB: the user-data carries the agent bundle (about 1 MiB after gzip+base64)
  await step("mkfs.vfat", ["-n", "CIDATA", "-C", image, "16384"], "dosfstools");
  await step("mcopy", ["-i", image, userFile, "::user-data"], "mtools");
  await step("mcopy", ["-i", image, metaFile, "::meta-data"], "mtools");
  return image;
}
