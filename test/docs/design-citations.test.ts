import { readdirSync, readFileSync } from "node:fs";
import { join, posix } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/*
 * Code, tests and docs cite the design as "design §4.3". Every such citation must resolve to
 * a numbered heading of docs/design.md (`### 4.3 State file`), the design in the repository,
 * so a reader can open what the code points at.
 */

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const DESIGN = "docs/design.md";
/** where citations are looked for */
const TREES = ["src", "test", "bench", "scripts", "docs"];
const FILES = ["README.md"];
const CITATION = /design §(\d+(?:\.\d+)*)/gi;
const NUMBERED_HEADING = /^#{1,6}\s+(\d+(?:\.\d+)*)\.?\s+\S/;
/**
 * What the code means by the numbers it cites. A heading that is renumbered must take its
 * citations with it: this catches "§4.3" silently coming to mean something else.
 */
const MEANING: Readonly<Record<string, RegExp>> = {
  "2": /Parts/,
  "3": /Agent behaviour/,
  "3.2": /Identity/,
  "4.1": /CLI/,
  "4.2": /Agent config/,
  "4.3": /State file/,
  "4.4": /Status/,
  "4.5": /Metrics/,
  "4.6": /Render spec/,
  "4.7": /Inventory/,
  "4.8": /Files on a node/,
  "5": /The lab/,
  "6": /prove/,
};

function filesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = posix.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "node_modules" ? [] : filesUnder(path);
    return [path];
  });
}

/** The section numbers docs/design.md has headings for, with the heading text. */
function designSections(text: string): Map<string, string> {
  const sections = new Map<string, string>();
  for (const line of text.split("\n")) {
    const number = NUMBERED_HEADING.exec(line)?.[1];
    if (number !== undefined) sections.set(number, line.trim());
  }
  return sections;
}

describe("design citations", () => {
  const sections = designSections(readFileSync(join(ROOT, DESIGN), "utf8"));

  it("numbers the design's sections", () => {
    expect([...sections.keys()], `${DESIGN} has no numbered headings`).toContain("4.3");
  });

  it("keep the meaning the code gives each number", () => {
    const moved = Object.entries(MEANING)
      .filter(([number, meaning]) => !meaning.test(sections.get(number) ?? ""))
      .map(
        ([number, meaning]) =>
          `${DESIGN} §${number} is "${sections.get(number) ?? "(no heading)"}", but the code cites §${number} for ${String(meaning)}: renumber the citations with the heading`,
      );
    expect(moved, moved.join("\n")).toEqual([]);
  });

  it("resolve to a heading of docs/design.md", () => {
    const files = [...TREES.flatMap((dir) => filesUnder(dir)), ...FILES].filter((f) => f !== DESIGN);
    const unresolved: string[] = [];
    let cited = 0;
    for (const file of files) {
      readFileSync(join(ROOT, file), "utf8")
        .split("\n")
        .forEach((line, index) => {
          for (const [, number = ""] of line.matchAll(CITATION)) {
            cited++;
            if (!sections.has(number))
              unresolved.push(
                `${file}:${index + 1} cites design §${number}, which is no heading of ${DESIGN}: cite one of ${[...sections.keys()].join(", ")}, or add a heading "## ${number} …" there`,
              );
          }
        });
    }
    expect(cited, "no design citation found at all: is the pattern still right?").toBeGreaterThan(20);
    expect(unresolved, unresolved.join("\n")).toEqual([]);
  });
});
