import type { Command } from "commander";
import { DEFAULT_CONFIG_PATH, loadConfig, showFile } from "../../config/load.js";
import { errorMessage, HoldfastError } from "../../errors.js";
import { CHECK_EXIT, evaluateCheck, evaluateConflictCheck, fitLine } from "../../observe/check.js";
import { addressesOnLinks } from "../../observe/kernel-view.js";
import { readStatus } from "../../observe/status-read.js";

/**
 * `holdfast check`: a node-problem-detector custom plugin. Whatever happens, it prints
 * exactly one short line on stdout and exits 0 (ok), 1 (problem) or 2 (unknown); details
 * of an unreadable config go to stderr, which NPD ignores.
 */
export function registerCheck(program: Command): void {
  program
    .command("check")
    .description("node-problem-detector plugin: exit 0 ok, 1 problem, 2 unknown; one line on stdout")
    .option("--config <path>", "agent config", DEFAULT_CONFIG_PATH)
    .option("--conflict", "judge only address conflicts (RFC 5227), for a separate NPD condition")
    .action(async (options: { config: string; conflict?: boolean }) => {
      let interfaces: string[];
      let runDir: string;
      try {
        const config = loadConfig(options.config);
        interfaces = config.attachments.map((a) => a.interface);
        runDir = config.runDir;
      } catch (error) {
        const detail = error instanceof HoldfastError ? error.describe() : errorMessage(error);
        process.stderr.write(`holdfast: ${detail}\n`);
        process.stdout.write(`${fitLine(`unknown: cannot read config ${showFile(options.config)}`)}\n`);
        process.exitCode = CHECK_EXIT.unknown;
        return;
      }
      const reading = readStatus(runDir);
      // a conflict is known from the agent's probes alone; only the main check asks the kernel
      const verdict =
        options.conflict === true
          ? evaluateConflictCheck(interfaces, reading)
          : evaluateCheck(
              interfaces,
              reading,
              reading.kind === "ok" ? await addressesOnLinks(interfaces) : undefined,
            );
      process.stdout.write(`${verdict.line}\n`);
      process.exitCode = verdict.exitCode;
    });
}
