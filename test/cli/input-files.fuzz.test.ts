/**
 * Issue 13 "must show": hostile config, spec and inventory FILES through the CLI bundle —
 * random bytes, random YAML/JSON trees, deep nesting, huge sizes and special files. Each case
 * ends in exit 0 or 2 within 5 s, prints under 64 KB and never a stack trace. The run count
 * is kept small: every case starts the bundle (about 0.3-2 s each on a loaded machine).
 */
import { spawnSync } from "node:child_process";
import { execFileSync } from "node:child_process";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BUNDLE, requireBundle } from "../helpers/agent-process.js";
import { scratchDir } from "../helpers/scratch.js";

const RUNS = Number(process.env.HOLDFAST_FUZZ_RUNS ?? 12);
const DEADLINE_MS = 5000;
const MAX_OUTPUT = 64 * 1024;
const STACK = /\n\s+at .+:\d+:\d+\)?/;

const dir = scratchDir("hf-fuzz-");
let n = 0;

type Kind = "config" | "spec" | "inventory";
/** Commands that only read and validate their file (no agent starts: a valid config is never generated). */
function argsFor(kind: Kind, path: string): string[] {
  if (kind === "config") return ["status", "--config", path];
  if (kind === "spec") return ["render", "--format", "script", "--spec", path];
  return ["converge", "--dry-run", "--inventory", path];
}

function runCase(kind: Kind, path: string): void {
  requireBundle();
  const r = spawnSync(process.execPath, [BUNDLE, ...argsFor(kind, path)], {
    encoding: "utf8",
    timeout: DEADLINE_MS,
    maxBuffer: 4 * MAX_OUTPUT,
  });
  const out = `${r.stdout ?? ""}${r.stderr ?? ""}`;
  const what = `${kind} ${path}: exit ${String(r.status)} ${String(r.signal)}\n${out.slice(0, 500)}`;
  expect(r.signal, `${what} (killed: over ${DEADLINE_MS} ms?)`).toBeNull();
  // status on an invalid config exits 2; a valid-looking one has no status file here: 1 is
  // "no status file", which only a valid config reaches
  expect([0, 2], what).toContain(r.status);
  expect(out.length, what).toBeLessThan(MAX_OUTPUT);
  expect(out, what).not.toMatch(STACK);
}

function nested(depth: number, json: boolean): string {
  return json ? `${"[".repeat(depth)}${"]".repeat(depth)}` : `${"- ".repeat(Math.min(depth, 2000))}x\n`;
}

const fileContent = fc.oneof(
  fc.uint8Array({ maxLength: 4096 }).map((b) => Buffer.from(b)),
  fc.jsonValue({ maxDepth: 6 }).map((v) => Buffer.from(JSON.stringify(v) ?? "null")),
  fc
    .dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 8 })
    .map((d) => Buffer.from(JSON.stringify({ version: 1, ...d }))),
  fc
    .record({ depth: fc.integer({ min: 100, max: 200_000 }), json: fc.boolean() })
    .map(({ depth, json }) => Buffer.from(nested(depth, json))),
  fc.integer({ min: 1, max: 3 }).map((mb) => Buffer.alloc(mb * 1024 * 1024, "a")),
  fc.constantFrom(
    Buffer.from(
      "a: &a [1,2]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n",
    ),
    Buffer.from("version: 1\nversion: 1\n"),
    Buffer.from("\u001b[2J\u001b]0;pwned\u0007version: 1\n"),
    Buffer.from("root:$6$salt$hash:19000:0:99999:7:::\n"),
  ),
);

type Special = "fifo" | "dev-zero" | "directory" | "dangling" | "empty";
const special = fc.constantFrom<Special>("fifo", "dev-zero", "directory", "dangling", "empty");

function makeSpecial(kind: Special): string {
  const path = join(dir, `special-${n++}`);
  if (kind === "fifo") execFileSync("mkfifo", [path]);
  else if (kind === "dev-zero") symlinkSync("/dev/zero", path);
  else if (kind === "directory") mkdirSync(path);
  else if (kind === "dangling") symlinkSync(join(dir, "nowhere"), path);
  else writeFileSync(path, "");
  return path;
}

describe("input files fuzz (CLI bundle)", () => {
  for (const kind of ["config", "spec", "inventory"] as const) {
    it(`${kind}: every file ends in exit 0 or 2 within 5 s, short output, no stack trace`, () => {
      const started = performance.now();
      fc.assert(
        fc.property(fileContent, (content) => {
          const path = join(dir, `${kind}-${n++}.yaml`);
          writeFileSync(path, content);
          runCase(kind, path);
        }),
        { numRuns: RUNS, seed: Number(process.env.HOLDFAST_FUZZ_SEED ?? 13), endOnFailure: true },
      );
      fc.assert(
        fc.property(special, (s) => runCase(kind, makeSpecial(s))),
        { numRuns: 5, seed: 13, endOnFailure: true },
      );
      console.log(`fuzz ${kind}: ${RUNS + 5} cases in ${Math.round(performance.now() - started)} ms`);
    }, 300_000);
  }
});
