import { writeFileAtomic } from "../../util/atomic-write.js";
import type { LabReport } from "../run.js";

/** `--json PATH`: `{ "results": [...], "environment": {...} }` (design §5); timelines stay in the HTML. */
export function renderJson(report: LabReport): string {
  return `${JSON.stringify({ results: report.results, environment: report.environment }, null, 2)}\n`;
}

export function writeJsonReport(path: string, report: LabReport): void {
  writeFileAtomic(path, renderJson(report));
}
