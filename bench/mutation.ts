/**
 * bench/mutation: runs the mutation tests (`npm run mutation`, StrykerJS, stryker.config.mjs)
 * and prints the score per module from its JSON report, with the run's wall time, date and
 * machine load. Too slow for every CI run on 2 CPUs (each of the schema's ~300 static mutants
 * reruns every unit test), so it runs on a schedule, like the other benches.
 *
 *   npx tsx bench/mutation.ts                    run Stryker, then the table
 *   npx tsx bench/mutation.ts --report-only      the table of the last run (reports/mutation/mutation.json)
 *     [--report <mutation.json>]...              or of these reports together, one file each (runs of one
 *                                                module at a time: `npx stryker run --mutate <file>`)
 *     [--before <old mutation.json>]...          with the score of an earlier run beside each module
 *     [--survivors]                              and every surviving mutant, file:line and what it changed
 *
 * Exit status: Stryker's (1 when the score is under thresholds.break), or 2 for bad usage.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { machineLoad } from "./stats.js";

const REPORT = "reports/mutation/mutation.json";

const { values } = parseArgs({
  options: {
    "report-only": { type: "boolean", default: false },
    before: { type: "string", multiple: true },
    survivors: { type: "boolean", default: false },
    report: { type: "string", multiple: true },
  },
});

interface Mutant {
  readonly mutatorName: string;
  readonly replacement?: string;
  readonly status: string;
  readonly location: { readonly start: { readonly line: number; readonly column: number } };
}
interface Report {
  readonly files: Record<string, { readonly source: string; readonly mutants: readonly Mutant[] }>;
}

interface Counts {
  mutants: number;
  killed: number;
  timeout: number;
  survived: number;
  noCoverage: number;
  errors: number;
}

/** Stryker's mutation score: detected (killed or timed out) over every valid mutant. */
const score = (c: Counts): number =>
  (100 * (c.killed + c.timeout)) / Math.max(1, c.killed + c.timeout + c.survived + c.noCoverage);

function count(mutants: readonly Mutant[]): Counts {
  const c: Counts = { mutants: mutants.length, killed: 0, timeout: 0, survived: 0, noCoverage: 0, errors: 0 };
  for (const m of mutants) {
    if (m.status === "Killed") c.killed++;
    else if (m.status === "Timeout") c.timeout++;
    else if (m.status === "Survived") c.survived++;
    else if (m.status === "NoCoverage") c.noCoverage++;
    else c.errors++; // CompileError, RuntimeError, Ignored: not in the score
  }
  return c;
}

function readReport(path: string): Report {
  if (!existsSync(path)) {
    console.error(`bench/mutation: no report at ${path}; run \`npm run mutation\` first`);
    process.exit(2);
  }
  return JSON.parse(readFileSync(path, "utf8")) as Report;
}

let status = 0;
let wall = "";
const load = machineLoad();
if (!values["report-only"]) {
  const started = Date.now();
  const run = spawnSync("npx", ["stryker", "run"], { stdio: "inherit" });
  status = run.status ?? 1;
  wall = `, ${((Date.now() - started) / 60_000).toFixed(1)} min wall`;
}

/** One report, or several runs of one module each put together (a file in two: the later run's). */
function readReports(paths: readonly string[]): Report {
  const files: Record<string, Report["files"][string]> = {};
  for (const path of paths) Object.assign(files, readReport(path).files);
  return { files };
}

const reportPaths = values.report ?? [REPORT];
const report = readReports(reportPaths);
const before = values.before === undefined ? undefined : readReports(values.before);
const pad = (s: string, n: number) => s.padEnd(n);
const num = (n: number) => String(n).padStart(5);
console.log(
  `\nbench/mutation ${new Date().toISOString().slice(0, 10)}: ${reportPaths.join(", ")}${wall}, ${load} at the start`,
);
console.log(`${pad("file", 30)} mutants killed timeout survived no-cov  score${before ? "  before" : ""}`);
const total: Counts = { mutants: 0, killed: 0, timeout: 0, survived: 0, noCoverage: 0, errors: 0 };
const totalBefore: Counts = { ...total };
for (const [file, { mutants }] of Object.entries(report.files).sort(([a], [b]) => a.localeCompare(b))) {
  const c = count(mutants);
  for (const k of Object.keys(total) as (keyof Counts)[]) total[k] += c[k];
  const old = before?.files[file];
  const b = old ? count(old.mutants) : undefined;
  if (b) for (const k of Object.keys(totalBefore) as (keyof Counts)[]) totalBefore[k] += b[k];
  console.log(
    `${pad(file, 30)} ${num(c.mutants)}  ${num(c.killed)}  ${num(c.timeout)}  ${num(c.survived)}  ${num(c.noCoverage)} ${score(c).toFixed(1).padStart(6)}${b ? `  ${score(b).toFixed(1).padStart(6)}` : ""}`,
  );
}
console.log(
  `${pad("all", 30)} ${num(total.mutants)}  ${num(total.killed)}  ${num(total.timeout)}  ${num(total.survived)}  ${num(total.noCoverage)} ${score(total).toFixed(1).padStart(6)}${before ? `  ${score(totalBefore).toFixed(1).padStart(6)}` : ""}`,
);

if (values.survivors) {
  console.log("\nsurviving mutants:");
  for (const [file, { source, mutants }] of Object.entries(report.files)) {
    const lines = source.split("\n");
    for (const m of mutants.filter((x) => x.status === "Survived" || x.status === "NoCoverage")) {
      const line = m.location.start.line;
      console.log(
        `  ${file}:${line}:${m.location.start.column} ${m.status} ${m.mutatorName}: ${JSON.stringify(m.replacement ?? "")}\n      ${lines[line - 1]?.trim() ?? ""}`,
      );
    }
  }
}
process.exit(status);
