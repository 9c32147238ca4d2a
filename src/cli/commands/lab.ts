import { writeFileSync } from "node:fs";
import { type Command, Option } from "commander";
import { HoldfastError, invalidInput } from "../../errors.js";
import { getImpl, parseImplNames } from "../../lab/impls/index.js";
import { IMPL_NAMES, type ImplName } from "../../lab/impls/types.js";
import { cleanLeftovers } from "../../harness/run-registry.js";
import { preflight } from "../../lab/preflight.js";
import { runProbeLoop, type ProbeTarget } from "../../harness/probe.js";
import { renderHtml } from "../../lab/report/html.js";
import { writeJsonReport } from "../../lab/report/json.js";
import { renderTable } from "../../lab/report/table.js";
import { LAB_NS_PREFIX, runLab } from "../../lab/run.js";
import { parseScenarioNames } from "../../lab/scenarios/index.js";
import { SCENARIO_NAMES, type ScenarioName } from "../../lab/scenarios/types.js";
import { serveUp } from "../../harness/up-server.js";
import { writeFileAtomic } from "../../util/atomic-write.js";

/** `holdfast lab` with no arguments: the incident and the two faults the write-up names, ≤ 3 minutes. */
export const DEFAULT_SCENARIOS: readonly ScenarioName[] = [
  "silent-server",
  "address-flush",
  "reboot-silent",
  // the server speaks (issue 10): a stale hold is as bad as a lost one
  "ipam-change",
  "pool-reuse",
];
export const DEFAULT_IMPLS: readonly ImplName[] = ["dhclient", "seed-loop", "dhcpcd", "holdfast"];

interface LabFlags {
  readonly scenario: string[];
  readonly impl: string[];
  readonly all?: boolean;
  readonly json?: string;
  readonly html?: string;
  readonly clean?: boolean;
  readonly lease: string;
  readonly parallel?: string;
  readonly keep?: boolean;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function parseIntFlag(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) {
    throw invalidInput(`expected an integer ${min}-${max}, got ${JSON.stringify(text)}`, flag);
  }
  return n;
}

/** Names and numbers are checked before anything is made, so a usage error leaves nothing behind. */
export function resolveSelection(flags: Pick<LabFlags, "scenario" | "impl" | "all">): {
  scenarios: ScenarioName[];
  impls: ImplName[];
} {
  const scenarios = parseScenarioNames(flags.scenario);
  const impls = parseImplNames(flags.impl);
  return {
    scenarios: scenarios.length > 0 ? scenarios : flags.all ? [...SCENARIO_NAMES] : [...DEFAULT_SCENARIOS],
    impls: impls.length > 0 ? impls : flags.all ? [...IMPL_NAMES] : [...DEFAULT_IMPLS],
  };
}

async function labAction(flags: LabFlags): Promise<void> {
  if (flags.clean) {
    if (process.getuid?.() !== 0)
      throw invalidInput("the lab needs root to remove namespaces", "holdfast lab --clean", [
        "run it as root, e.g. `sudo holdfast lab --clean`",
      ]);
    const { removed, spared, nodes } = await cleanLeftovers(LAB_NS_PREFIX);
    if (spared.length > 0)
      process.stdout.write(`left alone (their lab run is still going): ${spared.join(", ")}\n`);
    if (nodes.length > 0) process.stdout.write(`ended booted nodes ${nodes.join(", ")}\n`);
    if (removed.length > 0) process.stdout.write(`removed ${removed.join(", ")}\n`);
    if (removed.length === 0 && nodes.length === 0) process.stdout.write("nothing to clean\n");
    return;
  }
  const { scenarios, impls } = resolveSelection(flags);
  const leaseSeconds = parseIntFlag("--lease", flags.lease, 2, 3600);
  const parallel =
    flags.parallel === undefined ? undefined : parseIntFlag("--parallel", flags.parallel, 1, 64);
  preflight(impls.map(getImpl));
  const controller = new AbortController();
  const interrupt = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) return;
    process.stderr.write(`lab: ${signal}, cleaning up…\n`);
    controller.abort(
      new HoldfastError(`lab interrupted by ${signal}; everything it made was removed`, { code: "failure" }),
    );
  };
  process.on("SIGINT", interrupt);
  process.on("SIGTERM", interrupt);
  try {
    const report = await runLab({
      scenarios,
      impls,
      leaseSeconds,
      ...(parallel === undefined ? {} : { parallel }),
      ...(flags.keep ? { keepWorkDir: true } : {}),
      signal: controller.signal,
      log: (line) => process.stderr.write(`lab: ${line}\n`),
    });
    process.stdout.write(renderTable(report.results));
    if (flags.json) writeJsonReport(flags.json, report);
    if (flags.html) writeFileAtomic(flags.html, renderHtml(report));
    const broken = report.results.filter((r) => r.impl === "holdfast" && !r.pass);
    const errors = report.results.filter((r) => r.notes.some((n) => n.startsWith("lab error")));
    if (broken.length > 0 || errors.length > 0) process.exitCode = 1;
  } catch (error) {
    if (controller.signal.aborted && controller.signal.reason instanceof HoldfastError)
      throw controller.signal.reason;
    throw error;
  } finally {
    process.off("SIGINT", interrupt);
    process.off("SIGTERM", interrupt);
  }
}

export function registerLab(program: Command): void {
  program
    .command("lab")
    .description(
      "prove address holding in network namespaces: real Kea, real clients, fault scenarios (root)",
    )
    .option("--scenario <name>", `scenario to run, repeatable: ${SCENARIO_NAMES.join(", ")}`, collect, [])
    .option("--impl <name>", `implementation to compare, repeatable: ${IMPL_NAMES.join(", ")}`, collect, [])
    .option("--all", "every scenario × every implementation")
    .option("--json <path>", "write the results as JSON")
    .option("--html <path>", "write a report with one timeline per run")
    .option("--lease <seconds>", "DHCP lease time the lab's server hands out", "10")
    .option("--parallel <n>", "scenarios running at once (default: all)")
    .option("--keep", "keep the work directory (logs, leases, probe records)")
    .option("--clean", "remove namespaces a killed lab run left behind, then exit")
    .action(labAction);

  program
    .command("lab-probe", { hidden: true })
    .requiredOption("--out <file>")
    .addOption(new Option("--target <name=url>").argParser(collect).default([]))
    .option("--interval <ms>", "", "100")
    .option("--timeout <ms>", "", "300")
    .action(async (o: { out: string; target: string[]; interval: string; timeout: string }) => {
      const targets: ProbeTarget[] = o.target.map((t) => {
        const eq = t.indexOf("=");
        return { name: t.slice(0, eq), url: t.slice(eq + 1) };
      });
      writeFileSync(o.out, "", { flag: "a" });
      await runProbeLoop({
        targets,
        out: o.out,
        intervalMs: Number(o.interval),
        timeoutMs: Number(o.timeout),
      });
    });

  program
    .command("lab-serve", { hidden: true })
    .option("--port <port>", "", "8080")
    .action(async (o: { port: string }) => {
      const server = await serveUp(Number(o.port));
      await new Promise<void>((resolve) => {
        const stop = (): void => void server.close(() => resolve());
        process.once("SIGTERM", stop);
        process.once("SIGINT", stop);
      });
    });
}
