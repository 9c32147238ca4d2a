import { VERSION } from "../version.js";
import type { AgentBundle } from "./bundle.js";
import { InstallScript, type BundleSource } from "./script.js";
import type { Spec } from "./spec.js";

export function embeddedOrNpm(spec: Spec, bundle: AgentBundle | undefined): BundleSource {
  if (spec.agent.install === "npm") return { kind: "npm" };
  if (bundle === undefined) throw new Error("internal: agent.install is embedded but no bundle was given");
  return { kind: "embedded", bundle };
}

/**
 * A bash snippet to splice into an existing bootstrap: no shebang and no `set` line, so
 * it never changes the caller's shell options; every name it defines starts with
 * `holdfast_`. Its last command, `holdfast_install`, returns non-zero on failure, which
 * stops a caller running under `set -e` and is `$?` for one that is not.
 */
export function renderFragmentFromSpec(
  spec: Spec,
  bundle: AgentBundle | undefined,
  version = VERSION,
): string {
  return new InstallScript({ spec, source: embeddedOrNpm(spec, bundle), version }).body();
}

/** The whole install script: the fragment with a shebang and `set -euo pipefail`. */
export function renderScriptFromSpec(spec: Spec, bundle: AgentBundle | undefined, version = VERSION): string {
  return new InstallScript({ spec, source: embeddedOrNpm(spec, bundle), version }).render();
}
