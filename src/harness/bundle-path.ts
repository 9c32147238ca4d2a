import { existsSync } from "node:fs";
import { HoldfastError } from "../errors.js";
import { bundleCandidates } from "../render/bundle.js";

/**
 * The lab starts helpers (probe, /up server, the holdfast agent) inside namespaces by
 * re-executing this very program, so it works from the single bundle on a node where
 * only dist/holdfast.mjs was installed. Run from sources (tests, tsx), the bundle in dist/
 * is used and must have been built. Where to look is render's rule, shared with embedding.
 */
export function bundlePath(candidates: readonly string[] = bundleCandidates()): string {
  const found = candidates.find((path) => existsSync(path));
  if (found !== undefined) return found;
  // not the user's input: the program is incomplete (exit 1)
  throw new HoldfastError("the lab needs the bundled program, run `npm run build` first", {
    code: "failure",
    subject: "holdfast.mjs",
    details: [`looked in: ${candidates.join(", ") || "(nowhere: not running from a file)"}`],
  });
}

/** `node [nodeOptions…] <bundle> <sub> <args…>` as file + args, for Netns.spawn. */
export function selfCommand(
  sub: string,
  args: readonly string[],
  nodeOptions: readonly string[] = [],
): { file: string; args: string[] } {
  return { file: process.execPath, args: [...nodeOptions, bundlePath(), sub, ...args] };
}
