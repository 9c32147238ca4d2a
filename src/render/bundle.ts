import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { HoldfastError } from "../errors.js";

const BUNDLE_NAME = "holdfast.mjs";

/** The agent bundle as it is embedded into a script. */
export interface AgentBundle {
  readonly content: Buffer;
  readonly sha256: string;
}

export function agentBundle(content: Buffer): AgentBundle {
  return { content, sha256: createHash("sha256").update(content).digest("hex") };
}

/**
 * Where this code may find the one-file bundle: itself when it runs as the bundle (the CLI
 * on a node or a workstation), the sibling `holdfast.mjs` of the library in dist/, or
 * dist/ of the source tree when running from source (tests, tsx).
 */
export function bundleCandidates(moduleUrl: string = import.meta.url): string[] {
  if (!moduleUrl.startsWith("file:")) return [];
  const self = fileURLToPath(moduleUrl);
  const here = dirname(self);
  const candidates = basename(self) === BUNDLE_NAME ? [self] : [];
  candidates.push(join(here, BUNDLE_NAME), join(here, "..", "..", "dist", BUNDLE_NAME));
  return candidates;
}

/** Reads the bundle to embed, or fails saying where it looked and how to build it. */
export function findAgentBundle(candidates: readonly string[] = bundleCandidates()): AgentBundle {
  for (const path of candidates) {
    if (!existsSync(path)) continue;
    const content = readFileSync(path);
    if (content.subarray(0, 2).toString() !== "#!") continue;
    return agentBundle(content);
  }
  throw new HoldfastError("agent bundle not found", {
    code: "failure",
    subject: BUNDLE_NAME,
    details: [
      `looked in: ${candidates.join(", ") || "(nowhere: not running from a file)"}`,
      "build it with `npm run build`, or use `agent.install: npm` in the spec",
    ],
  });
}
