import { VERSION } from "../version.js";
import { agentUnit, directoriesToCreate } from "./agent-unit.js";
import type { AgentBundle } from "./bundle.js";
import { renderConfigFile } from "./config-file.js";
import { INSTALL_ADOPT_LIB } from "./adopt.js";
import { INSTALL_ACTIVATE_LIB } from "./install-activate.js";
import { INSTALL_FILES_LIB } from "./install-lib.js";
import { renderLauncher } from "./launcher.js";
import { networkManagerDropIn, networkdDropIn, retireDropIn } from "./network-managers.js";
import { NODE_PATHS, NPM_PACKAGE, UNIT_NAME, WAIT_ONLINE_UNIT_NAME, generatedMarker } from "./paths.js";
import { quotedHeredoc, shellQuote } from "./shell.js";
import type { Spec } from "./spec.js";
import { modulesLoad, waitOnlineUnit } from "./wait-online.js";

/**
 * Where the agent bundle comes from: `embedded` carries it base64-encoded, `npm` fetches
 * the pinned version, `present` expects it already written (by cloud-init's write_files)
 * and verifies its sha256.
 */
export type BundleSource =
  | { readonly kind: "embedded"; readonly bundle: AgentBundle }
  | { readonly kind: "present"; readonly bundle: AgentBundle }
  | { readonly kind: "npm" };

export interface InstallScriptOptions {
  readonly spec: Spec;
  readonly source: BundleSource;
  /** @default VERSION of this holdfast */
  readonly version?: string;
}

// base64(1)'s line length, so the embedded bundle reads like `base64` output.
const BASE64_LINE = 76;

function wrap(text: string, width: number): string {
  const lines: string[] = [];
  for (let i = 0; i < text.length; i += width) lines.push(text.slice(i, i + width));
  return `${lines.join("\n")}\n`;
}

function contentFunction(name: string, content: string): string {
  return `${name}() {\n${quotedHeredoc("  cat", content)}}\n`;
}

function assign(name: string, value: string): string {
  return `${name}=${shellQuote(value)}`;
}

/**
 * The install script (design §4.6): `ssh host 'bash -s' < boot.sh`. `body()` is the part
 * that is also the fragment: data, functions, then one call of `holdfast_install`.
 */
export class InstallScript {
  constructor(readonly options: InstallScriptOptions) {}

  private get version(): string {
    return this.options.version ?? VERSION;
  }

  private data(): string {
    const { spec, source } = this.options;
    const config = spec.agent.config;
    const interfaces = config.attachments.map((a) => shellQuote(a.interface)).join(" ");
    const directories = directoriesToCreate(config).map(shellQuote).join(" ");
    return [
      assign("holdfast_node", spec.node.name),
      assign("holdfast_bootstrap_user", spec.node.bootstrapUser),
      assign("holdfast_version", this.version),
      assign("holdfast_install_mode", source.kind),
      assign("holdfast_bundle_sha256", source.kind === "npm" ? "" : source.bundle.sha256),
      assign("holdfast_npm_package", `${NPM_PACKAGE}@${this.version}`),
      assign("holdfast_unit", UNIT_NAME),
      assign("holdfast_path_launcher", NODE_PATHS.launcher),
      assign("holdfast_path_bundle", NODE_PATHS.bundle),
      assign("holdfast_path_config", NODE_PATHS.config),
      assign("holdfast_path_unit", NODE_PATHS.unit),
      assign("holdfast_wait_online_unit", WAIT_ONLINE_UNIT_NAME),
      assign("holdfast_path_wait_online", NODE_PATHS.waitOnlineUnit),
      // empty: no VLAN attachment, no module to load
      assign("holdfast_path_modules_load", modulesLoad(config) === undefined ? "" : NODE_PATHS.modulesLoad),
      assign("holdfast_path_networkd", NODE_PATHS.networkd),
      assign("holdfast_path_networkmanager", NODE_PATHS.networkManager),
      `holdfast_interfaces=(${interfaces})`,
      `holdfast_directories=(${directories})`,
      `holdfast_node_bin=""`,
      `holdfast_tmp=""`,
      `holdfast_changes=0`,
      `holdfast_wait_seconds=120`,
      "",
    ].join("\n");
  }

  private contents(): string {
    const { spec, source } = this.options;
    const config = spec.agent.config;
    const interfaces = config.attachments.map((a) => a.interface);
    const parts = [
      contentFunction("holdfast_content_launcher", renderLauncher()),
      contentFunction("holdfast_content_config", renderConfigFile(config)),
      contentFunction("holdfast_content_unit", agentUnit(config).render()),
      contentFunction("holdfast_content_wait_online", waitOnlineUnit().render()),
      contentFunction("holdfast_content_networkd", networkdDropIn(interfaces).render()),
      contentFunction("holdfast_content_networkmanager", networkManagerDropIn(interfaces).render()),
      contentFunction("holdfast_content_retire_dropin", retireDropIn().render()),
    ];
    // only called when holdfast_path_modules_load is set, i.e. for a VLAN attachment
    const modules = modulesLoad(config);
    if (modules !== undefined) parts.push(contentFunction("holdfast_content_modules_load", modules));
    if (source.kind === "embedded") {
      const base64 = wrap(source.bundle.content.toString("base64"), BASE64_LINE);
      parts.push(contentFunction("holdfast_content_bundle_base64", base64));
    }
    return parts.join("\n");
  }

  /** The fragment: no shebang, no `set`; returns non-zero from `holdfast_install` on failure. */
  body(): string {
    const { spec } = this.options;
    return [
      `# ${generatedMarker(`installs the holdfast agent on ${spec.node.name}`, this.version)}`,
      "# shellcheck shell=bash",
      "",
      "# --- data (every value single-quoted or in a quoted heredoc: never code) ---",
      this.data(),
      this.contents(),
      "# --- steps ---",
      INSTALL_FILES_LIB,
      INSTALL_ADOPT_LIB,
      INSTALL_ACTIVATE_LIB,
      "holdfast_install",
      "",
    ].join("\n");
  }

  /** The whole script, for `bash -s` over SSH or as a file. */
  render(): string {
    const body = this.body();
    // The marker stays the first comment: right after the shebang.
    const [marker, ...rest] = body.split("\n");
    return ["#!/bin/bash", marker, "set -euo pipefail", ...rest].join("\n");
  }
}
