/**
 * The test tree's own rules, so they stay true: root-only tests are the `.ns.test.ts` files
 * (`npm run test:unprivileged` leaves exactly those out), every conditional skip goes through
 * test/helpers/skip.ts (a skip in CI is a failure), and test names are short sentences.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const MAX_NAME = 100;

function testFiles(dir = join(ROOT, "test")): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(path);
    return entry.name.endsWith(".ts") ? [relative(ROOT, path)] : [];
  });
}

const FILES = testFiles();
const TEST_FILES = FILES.filter((f) => f.endsWith(".test.ts"));
const source = (file: string): string => readFileSync(join(ROOT, file), "utf8");

/** Calls that need root (namespaces, user switches, booted nodes): only in `.ns.test.ts` files. */
const NEEDS_ROOT =
  /\b(Netns\.create|createTopology|useTopology|withTopology|runAgent|bootNode|rootfsFor|skipUnlessRoot|describeAdapter|runLab|new Sandbox)\(|"setpriv"/;

/** Every `it`/`test`/`describe` name given as a literal, with its line. */
function testNames(file: string): { name: string; line: number }[] {
  const tree = ts.createSourceFile(file, source(file), ts.ScriptTarget.Latest, true);
  const names: { name: string; line: number }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && node.arguments.length > 0) {
      let callee: ts.Expression = node.expression;
      while (ts.isCallExpression(callee)) callee = callee.expression;
      const first = node.arguments[0]!;
      const literal =
        ts.isStringLiteral(first) ||
        ts.isNoSubstitutionTemplateLiteral(first) ||
        ts.isTemplateExpression(first);
      if (/^(it|test|describe)\b/.test(callee.getText(tree)) && literal) {
        const line = tree.getLineAndCharacterOfPosition(first.getStart()).line + 1;
        names.push({ name: first.getText(tree).slice(1, -1), line });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(tree);
  return names;
}

describe("the test tree", () => {
  it("has the root-only calls in .ns.test.ts files only", () => {
    const misplaced = TEST_FILES.filter(
      (f) => !f.endsWith(".ns.test.ts") && f !== "test/layout.test.ts" && NEEDS_ROOT.test(source(f)),
    );
    expect(misplaced, "these need root: split the root part into a .ns.test.ts file").toEqual([]);
  });

  it("skips only through test/helpers/skip.ts", () => {
    const bad = FILES.flatMap((file) => {
      const text = source(file);
      const unconditional = /\.(skip|todo|only)\(|\bctx\.skip\(|\.runIf\(/.test(text);
      const viaHelper = /\b(skipWhen|skipUnlessRoot|rootfsFor|describeAdapter)\(/.test(text);
      return unconditional || (/\.skipIf\(/.test(text) && !viaHelper) ? [file] : [];
    });
    expect(bad, "use skipWhen/skipUnlessRoot so a skip in CI fails (test/helpers/skip.ts)").toEqual([]);
  });

  it(`names every test in at most ${MAX_NAME} characters`, () => {
    const long = FILES.flatMap((file) =>
      testNames(file)
        .filter((t) => t.name.length > MAX_NAME)
        .map((t) => `${file}:${t.line} (${t.name.length}) ${t.name}`),
    );
    expect(long, "short sentences; the details go in the assertion messages").toEqual([]);
  });

  it("finds the names it checks", () => {
    // the name scan is not vacuous: this file's own names are found
    expect(testNames("test/layout.test.ts").map((t) => t.name)).toContain("finds the names it checks");
    expect(TEST_FILES.length).toBeGreaterThan(50);
  });
});
