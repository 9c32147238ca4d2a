import { readdirSync, readFileSync } from "node:fs";
import { join, posix } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/*
 * docs/architecture.md is the map of src/, and this test keeps it true. The rule, as the map
 * states it at its top: every folder of src/ has a heading that names it in backticks
 * (### `src/agent/`), and every file of that folder is named, by its file name in backticks,
 * in the FIRST column of a table row under that heading. Nothing else counts: a mention in
 * prose or in a description column does not put a file on the map.
 */

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const MAP = "docs/architecture.md";

/** Every `.ts` file under src/, as `src/agent/agent.ts`. */
function sourceFiles(dir = "src"): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = posix.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

interface MapEntry {
  /** src/agent/agent.ts */
  readonly path: string;
  /** the heading it is under, as written */
  readonly heading: string;
  readonly line: number;
}

const FOLDER_HEADING = /^#{2,4}\s+`(src(?:\/[\w.-]+)*)\/`/;
const TICKED = /`([^`]+)`/g;

/** What is wrong with the map for these source files; one line each, saying what to do. */
function mapProblems(files: readonly string[], text: string): string[] {
  const entries: MapEntry[] = [];
  const headings = new Map<string, string>();
  const problems: string[] = [];
  let folder: string | undefined;
  let heading = "";
  text.split("\n").forEach((raw, index) => {
    const line = index + 1;
    if (/^#{1,6}\s/.test(raw)) {
      folder = FOLDER_HEADING.exec(raw)?.[1];
      heading = raw.trim();
      if (folder !== undefined) headings.set(folder, heading);
      return;
    }
    const cell = /^\|([^|]*)\|/.exec(raw)?.[1];
    if (cell === undefined) return;
    for (const [, name = ""] of cell.matchAll(TICKED)) {
      if (folder === undefined)
        problems.push(`${MAP}:${line}: \`${name}\` is in a table under no folder heading (### \`src/…/\`)`);
      else if (!/^[\w.-]+\.ts$/.test(name))
        problems.push(
          `${MAP}:${line}: \`${name}\` under "${heading}": name one file by its name in that folder (no path, no glob)`,
        );
      else entries.push({ path: `${folder}/${name}`, heading, line });
    }
  });

  const existing = new Set(files);
  const named = new Map<string, number>();
  for (const entry of entries) {
    const first = named.get(entry.path);
    if (first !== undefined)
      problems.push(`${MAP}:${entry.line}: ${entry.path} is already named at line ${first}`);
    else named.set(entry.path, entry.line);
    if (!existing.has(entry.path))
      problems.push(
        `${MAP}:${entry.line}: ${entry.path} (under "${entry.heading}") does not exist: remove or rename its row`,
      );
  }
  for (const file of files) {
    if (named.has(file)) continue;
    const dir = posix.dirname(file);
    const row = `| \`${posix.basename(file)}\` | <its one job> |`;
    const under = headings.get(dir);
    problems.push(
      under === undefined
        ? `${file} is not in ${MAP}: add a heading "### \`${dir}/\`" with a table, and the row ${row} in it`
        : `${file} is not in ${MAP}: add the row ${row} to the table under "${under}"`,
    );
  }
  const folders = new Set(files.map((f) => posix.dirname(f)));
  for (const [dir, line] of headings)
    if (!folders.has(dir)) problems.push(`${MAP}: "${line}" names a folder with no source file: remove it`);
  return problems;
}

describe("architecture map", () => {
  it("names every source file of src and nothing else", () => {
    const problems = mapProblems(sourceFiles().sort(), readFileSync(join(ROOT, MAP), "utf8"));
    expect(problems, `${MAP} is out of step with src/:\n${problems.join("\n")}`).toEqual([]);
  });

  it("says which file is missing and where its row goes", () => {
    const map = ["### `src/agent/`", "| file | job |", "| --- | --- |", "| `agent.ts` | lifecycle |"].join(
      "\n",
    );
    const files = ["src/agent/agent.ts", "src/agent/steps.ts", "src/agent/reconcile/link.ts"];
    expect(mapProblems(files, map)).toEqual([
      'src/agent/steps.ts is not in docs/architecture.md: add the row | `steps.ts` | <its one job> | to the table under "### `src/agent/`"',
      'src/agent/reconcile/link.ts is not in docs/architecture.md: add a heading "### `src/agent/reconcile/`" with a table, and the row | `link.ts` | <its one job> | in it',
    ]);
  });

  it("rejects a row for a file that is gone, a path and a glob", () => {
    const map = ["### `src/net/`", "| `gone.ts` |", "| `net/link.ts`, `nspawn*.ts` |"].join("\n");
    expect(mapProblems([], map)).toEqual([
      'docs/architecture.md:3: `net/link.ts` under "### `src/net/`": name one file by its name in that folder (no path, no glob)',
      'docs/architecture.md:3: `nspawn*.ts` under "### `src/net/`": name one file by its name in that folder (no path, no glob)',
      'docs/architecture.md:2: src/net/gone.ts (under "### `src/net/`") does not exist: remove or rename its row',
      'docs/architecture.md: "### `src/net/`" names a folder with no source file: remove it',
    ]);
  });
});
