import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { HoldfastError } from "../errors.js";

/**
 * The lab starts helpers (probe, /up server, the holdfast agent) inside namespaces by
 * re-executing this very program, so it works from the single bundle on a node where
 * only dist/holdfast.mjs was installed. Run from sources (tests, tsx), the bundle next
 * to the sources is used and must have been built.
 */
export function bundlePath(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith(".mjs")) return here;
  const built = resolve(dirname(here), "../../dist/holdfast.mjs");
  if (!existsSync(built)) {
    throw new HoldfastError("the lab needs the bundled program, run `npm run build` first", {
      code: "invalid-input",
      subject: built,
    });
  }
  return built;
}

/** `node <bundle> <sub> <args…>` as file + args, for Netns.spawn. */
export function selfCommand(sub: string, args: readonly string[]): { file: string; args: string[] } {
  return { file: process.execPath, args: [bundlePath(), sub, ...args] };
}
