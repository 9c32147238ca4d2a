import { gzipSync } from "node:zlib";
import { stringify } from "yaml";
import { VERSION } from "../version.js";
import type { AgentBundle } from "./bundle.js";
import { NODE_PATHS, generatedMarker } from "./paths.js";
import { InstallScript } from "./script.js";
import type { Spec } from "./spec.js";

interface WriteFile {
  readonly path: string;
  readonly owner: string;
  readonly permissions: string;
  readonly encoding?: "gz+b64";
  readonly content: string;
}

/** A `#cloud-config` document: write_files then runcmd, in that key order. */
export class CloudInitConfig {
  constructor(
    readonly header: readonly string[],
    readonly writeFiles: readonly WriteFile[],
    readonly runcmd: readonly (readonly string[])[],
  ) {}

  render(): string {
    const body = stringify(
      { write_files: this.writeFiles, runcmd: this.runcmd },
      // lineWidth 0: never fold; the install script comes out as one literal block
      { lineWidth: 0, blockQuote: "literal" },
    );
    return `#cloud-config\n${this.header.map((l) => `# ${l}`).join("\n")}\n${body}`;
  }
}

/**
 * cloud-init user-data doing what the install script does: write_files puts the bundle
 * (gzip+base64, a quarter of the size of base64 alone) and the install script in place;
 * runcmd runs the script, which verifies the bundle's sha256 and does the rest.
 * With `agent.install: npm` only the script is written and it fetches the pinned version.
 */
export function renderCloudInitFromSpec(
  spec: Spec,
  bundle: AgentBundle | undefined,
  version = VERSION,
): string {
  const files: WriteFile[] = [];
  let script: InstallScript;
  if (spec.agent.install === "npm") {
    script = new InstallScript({ spec, source: { kind: "npm" }, version });
  } else {
    if (bundle === undefined) throw new Error("internal: agent.install is embedded but no bundle was given");
    files.push({
      path: NODE_PATHS.bundle,
      owner: "root:root",
      permissions: "0644",
      encoding: "gz+b64",
      // level 9 and no file name or mtime in the header: the same bundle always encodes the same way
      content: gzipSync(bundle.content, { level: 9 }).toString("base64"),
    });
    script = new InstallScript({ spec, source: { kind: "present", bundle }, version });
  }
  files.push({
    path: NODE_PATHS.installScript,
    owner: "root:root",
    permissions: "0700",
    content: script.render(),
  });
  return new CloudInitConfig(
    [generatedMarker(`cloud-init user-data installing the holdfast agent on ${spec.node.name}`, version)],
    files,
    [["bash", NODE_PATHS.installScript]],
  ).render();
}
