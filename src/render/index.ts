/**
 * Bootstrap material for a node from a render spec (design §4.6), as text. The CLI's
 * `holdfast render` and library users (`import { renderBootstrap } from "holdfast"`)
 * both come through here.
 */
import { agentUnit } from "./agent-unit.js";
import { agentBundle, findAgentBundle, type AgentBundle } from "./bundle.js";
import { renderCloudInitFromSpec } from "./cloud-init.js";
import { renderConfigFile } from "./config-file.js";
import { renderFragmentFromSpec, renderScriptFromSpec } from "./fragment.js";
import { renderLauncher } from "./launcher.js";
import { NODE_PATHS } from "./paths.js";
import { parseSpec, type Spec, type SpecInput } from "./spec.js";
import { modulesLoad, waitOnlineUnit } from "./wait-online.js";

export interface RenderOptions {
  /**
   * The agent bundle to embed (`agent.install: embedded`).
   * @default this holdfast's own bundle: itself when running as the bundle, else dist/holdfast.mjs
   */
  readonly bundle?: Buffer;
}

/** A file as it lands on the node. */
export interface RenderedFile {
  /** absolute path on the node (design §4.8) */
  readonly path: string;
  readonly content: string;
  /** e.g. 0o644 */
  readonly mode: number;
}

export interface Bootstrap {
  /** the unit, config and launcher, as `--format units` writes them */
  readonly files: readonly RenderedFile[];
  /** bash for `ssh host 'bash -s' < boot.sh` */
  readonly script: string;
  /** `#cloud-config` user-data */
  readonly cloudInit: string;
  /** bash to splice into an existing bootstrap (no shebang, no `set`) */
  readonly fragment: string;
}

export function bundleFor(spec: Spec, options: RenderOptions): AgentBundle | undefined {
  if (spec.agent.install === "npm") return undefined;
  return options.bundle ? agentBundle(options.bundle) : findAgentBundle();
}

/** The spec as written (design §4.6); validated here, errors name the field path. */
function specOf(spec: SpecInput): Spec {
  return parseSpec(spec);
}

/** The unit, config and launcher of a node; needs no bundle. */
export function renderUnits(spec: SpecInput): RenderedFile[] {
  return renderUnitsFromSpec(specOf(spec));
}

export function renderUnitsFromSpec(spec: Spec): RenderedFile[] {
  const config = spec.agent.config;
  const modules = modulesLoad(config);
  return [
    { path: NODE_PATHS.unit, content: agentUnit(config).render(), mode: 0o644 },
    { path: NODE_PATHS.config, content: renderConfigFile(config), mode: 0o600 },
    { path: NODE_PATHS.launcher, content: renderLauncher(), mode: 0o755 },
    { path: NODE_PATHS.waitOnlineUnit, content: waitOnlineUnit().render(), mode: 0o644 },
    ...(modules === undefined ? [] : [{ path: NODE_PATHS.modulesLoad, content: modules, mode: 0o644 }]),
  ];
}

export function renderScript(spec: SpecInput, options: RenderOptions = {}): string {
  const parsed = specOf(spec);
  return renderScriptFromSpec(parsed, bundleFor(parsed, options));
}

export function renderCloudInit(spec: SpecInput, options: RenderOptions = {}): string {
  const parsed = specOf(spec);
  return renderCloudInitFromSpec(parsed, bundleFor(parsed, options));
}

export function renderFragment(spec: SpecInput, options: RenderOptions = {}): string {
  const parsed = specOf(spec);
  return renderFragmentFromSpec(parsed, bundleFor(parsed, options));
}

/**
 * Everything at once. Throws HoldfastError `invalid-input` (exit 2) naming the field path
 * for a bad spec, `failure` when the bundle to embed cannot be found.
 */
export function renderBootstrap(spec: SpecInput, options: RenderOptions = {}): Bootstrap {
  const parsed = specOf(spec);
  const bundle = bundleFor(parsed, options);
  return {
    files: renderUnitsFromSpec(parsed),
    script: renderScriptFromSpec(parsed, bundle),
    cloudInit: renderCloudInitFromSpec(parsed, bundle),
    fragment: renderFragmentFromSpec(parsed, bundle),
  };
}

export { parseSpec, specSchema, type Spec, type SpecInput } from "./spec.js";
export { renderCloudInitFromSpec } from "./cloud-init.js";
export { renderFragmentFromSpec, renderScriptFromSpec } from "./fragment.js";
