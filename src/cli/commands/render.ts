import { join } from "node:path";
import { type Command, Option } from "commander";
import { mkdirSync, statSync } from "node:fs";
import { readDocument, showFile } from "../../config/load.js";
import { invalidInput } from "../../errors.js";
import { renderAlerts } from "../../observe/alerts.js";
import { renderNpdConfig } from "../../observe/npd.js";
import {
  bundleFor,
  renderCloudInitFromSpec,
  renderFragmentFromSpec,
  renderScriptFromSpec,
  renderUnitsFromSpec,
} from "../../render/index.js";
import { renderAnsibleRole } from "../../render/ansible.js";
import { findAgentBundle } from "../../render/bundle.js";
import { NODE_PATHS } from "../../render/paths.js";
import { parseSpec, type Spec, type SpecInput } from "../../render/spec.js";
import { writeFileAtomic } from "../../util/atomic-write.js";

export const RENDER_FORMATS = [
  "script",
  "cloud-init",
  "units",
  "fragment",
  "ansible",
  "alerts",
  "npd",
] as const;
type RenderFormat = (typeof RENDER_FORMATS)[number];

// alerts and npd describe monitoring, not a node: they need no spec.
const NEEDS_SPEC: ReadonlySet<RenderFormat> = new Set([
  "script",
  "cloud-init",
  "units",
  "fragment",
  "ansible",
]);

interface RenderCliOptions {
  readonly spec?: string;
  readonly format: RenderFormat;
  readonly out?: string;
}

function loadSpecFile(file: string | undefined, format: RenderFormat): Spec {
  if (file === undefined)
    throw invalidInput("missing --spec <path>", `--format ${format}`, [
      "a render spec is required for this format (design §4.6)",
    ]);
  return parseSpec(readDocument(file), file);
}

/** --out must be a directory, or not exist yet (it is made); anything else is bad input. */
function checkOutDir(out: string): void {
  try {
    mkdirSync(out, { recursive: true });
    if (statSync(out).isDirectory()) return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "error";
    throw invalidInput("invalid --out", showFile(out), [
      code === "EEXIST" || code === "ENOTDIR"
        ? "expected a directory, got an existing file"
        : `cannot make the directory (${code})`,
    ]);
  }
  throw invalidInput("invalid --out", showFile(out), ["expected a directory, got an existing file"]);
}

/** `--format units --out DIR`: the unit, config and launcher under their node file names. */
function writeUnits(spec: Spec, out: string | undefined): void {
  if (out === undefined)
    throw invalidInput("missing --out <dir>", "--format units", [
      "units are files: name the directory to write them into",
    ]);
  checkOutDir(out);
  for (const file of renderUnitsFromSpec(spec)) {
    const target = join(out, file.path.slice(file.path.lastIndexOf("/") + 1));
    writeFileAtomic(target, file.content, file.mode);
    process.stderr.write(`holdfast: wrote ${target}\n`);
  }
}

/**
 * `--format ansible --out DIR`: the role under DIR/roles/holdfast and the examples. It always
 * carries this holdfast's own bundle: the role installs what rendered it.
 */
function writeAnsible(file: string | undefined, out: string | undefined): void {
  if (out === undefined)
    throw invalidInput("missing --out <dir>", "--format ansible", [
      "a role is a tree of files: name the directory to write it into",
    ]);
  if (file === undefined)
    throw invalidInput("missing --spec <path>", "--format ansible", [
      "a render spec is required for this format (design §4.6)",
    ]);
  // as written: parsed (and validated) inside, but the role's defaults keep "30s" as "30s"
  const spec = readDocument(file) as SpecInput;
  for (const each of renderAnsibleRole({ spec, file, bundle: findAgentBundle() }))
    writeFileAtomic(join(out, each.path), each.content, each.mode);
  process.stderr.write(`holdfast: wrote the holdfast role and site.yml into ${out}\n`);
}

function renderText(options: RenderCliOptions): string {
  const { format } = options;
  if (format === "alerts") return renderAlerts();
  if (format === "npd")
    return renderNpdConfig({ holdfastPath: NODE_PATHS.launcher, configPath: NODE_PATHS.config });
  const spec = loadSpecFile(options.spec, format);
  const bundle = bundleFor(spec, {});
  if (format === "script") return renderScriptFromSpec(spec, bundle);
  if (format === "cloud-init") return renderCloudInitFromSpec(spec, bundle);
  return renderFragmentFromSpec(spec, bundle);
}

export function registerRender(program: Command): void {
  program
    .command("render")
    .description("render bootstrap material for a node from a render spec, or monitoring config")
    .option("--spec <path>", "render spec (YAML or JSON); not needed for alerts and npd")
    .addOption(
      new Option("--format <format>", "what to render").choices(RENDER_FORMATS).makeOptionMandatory(),
    )
    .option("--out <path>", "directory to write into (units, ansible); a file for the other formats")
    .action((options: RenderCliOptions) => {
      if (options.format === "units") {
        writeUnits(loadSpecFile(options.spec, "units"), options.out);
        return;
      }
      if (options.format === "ansible") {
        writeAnsible(options.spec, options.out);
        return;
      }
      if (!NEEDS_SPEC.has(options.format) && options.spec !== undefined) {
        process.stderr.write(`holdfast: --spec is not used by --format ${options.format}\n`);
      }
      const text = renderText(options);
      // a script is run from the file (the Ansible role renders it on the node this way)
      if (options.out !== undefined)
        writeFileAtomic(options.out, text, options.format === "script" ? 0o700 : 0o644);
      else process.stdout.write(text);
    });
}
