/**
 * bench/prove: runs `holdfast prove` N times on one spec and prints the median (p50) of the
 * two boot figures: cloud-init start → address held on the first boot, and kernel start →
 * address held after the reboot (Kea silent, the address from the cache), plus the run time.
 *
 *   npm run build && npx tsx bench/prove.ts [--runs 3] [--spec test/render/fixtures/kura-cache-7.yaml]
 *
 * Needs root and qemu (scripts/install-deps.sh); builds the VM image on its first run.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { bundlePath } from "../src/harness/bundle-path.js";
import type { ProveFigures, StepResult } from "../src/prove/types.js";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "3" },
    spec: { type: "string", default: "test/render/fixtures/kura-cache-7.yaml" },
  },
});
if (process.getuid?.() !== 0) {
  console.error("bench/prove needs root (holdfast prove)");
  process.exit(2);
}

function p50(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

const dir = mkdtempSync(join(tmpdir(), "holdfast-bench-prove-"));
const runs: { figures: ProveFigures; durationMs: number; steps: StepResult[] }[] = [];
try {
  for (let i = 0; i < Number(values.runs); i++) {
    const json = join(dir, `run-${i}.json`);
    const r = spawnSync(process.execPath, [bundlePath(), "prove", "--spec", values.spec, "--json", json], {
      stdio: ["ignore", "inherit", "inherit"],
    });
    const doc = JSON.parse(readFileSync(json, "utf8")) as (typeof runs)[number];
    runs.push(doc);
    const failed = doc.steps.filter((s) => !s.pass).map((s) => s.name);
    console.log(
      `run ${i + 1}: exit ${r.status}; cloud-init start → held ${doc.figures.cloudInitToHeldMs} ms; kernel start → held after reboot ${doc.figures.kernelToHeldMs} ms; run ${Math.round(doc.durationMs / 1000)} s${failed.length ? `; failed: ${failed.join(", ")}` : ""}`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const pick = (f: (r: (typeof runs)[number]) => number | null) =>
  p50(runs.map(f).filter((v): v is number => v !== null));
console.log(`\n${runs.length} runs of holdfast prove --spec ${values.spec} (p50):`);
console.log(`  first boot, cloud-init start → address held: ${pick((r) => r.figures.cloudInitToHeldMs)} ms`);
console.log(`  after reboot, kernel start → address held:   ${pick((r) => r.figures.kernelToHeldMs)} ms`);
console.log(
  `  whole run:                                   ${Math.round((pick((r) => r.durationMs) ?? 0) / 1000)} s`,
);
