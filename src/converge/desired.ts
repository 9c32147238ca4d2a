import { createHash } from "node:crypto";
import type { AgentBundle } from "../render/bundle.js";
import { renderScriptFromSpec, renderUnitsFromSpec } from "../render/index.js";
import { NODE_PATHS } from "../render/paths.js";
import type { Spec } from "../render/spec.js";
import { VERSION } from "../version.js";

/** What a host should end up with: the files' hashes to compare with a probe, and the script that makes it so. */
export interface Desired {
  readonly spec: Spec;
  readonly version: string;
  /** undefined for `agent.install: npm`: then the version decides */
  readonly bundleSha256: string | undefined;
  readonly launcherSha256: string;
  readonly configSha256: string;
  readonly unitSha256: string;
  readonly interfaces: readonly string[];
  /** the rendered config's runDir: where the agent keeps status.json (the probe reads it) */
  readonly runDir: string;
  /**
   * the install script (design §4.6), delivered on stdin of `bash -s`; rendered when first
   * read (only a host that needs it pays: carrying the bundle costs ~0.1-0.4 s a host)
   */
  readonly script: string;
}

const sha256 = (text: string | Buffer): string => createHash("sha256").update(text).digest("hex");

function contentOf(files: readonly { path: string; content: string }[], path: string): string {
  const file = files.find((f) => f.path === path);
  if (!file) throw new Error(`internal: render produced no ${path}`);
  return file.content;
}

/** Renders a host's desired state; `bundle` is undefined for npm installs. */
export function desiredState(spec: Spec, bundle: AgentBundle | undefined): Desired {
  const files = renderUnitsFromSpec(spec);
  let script: string | undefined;
  return {
    spec,
    version: VERSION,
    bundleSha256: spec.agent.install === "embedded" ? bundle?.sha256 : undefined,
    launcherSha256: sha256(contentOf(files, NODE_PATHS.launcher)),
    configSha256: sha256(contentOf(files, NODE_PATHS.config)),
    unitSha256: sha256(contentOf(files, NODE_PATHS.unit)),
    interfaces: spec.agent.config.attachments.map((a) => a.interface),
    runDir: spec.agent.config.runDir,
    get script(): string {
      return (script ??= renderScriptFromSpec(spec, spec.agent.install === "embedded" ? bundle : undefined));
    },
  };
}
