import type { Command } from "commander";
import { MAX_INPUT_BYTES, showFile } from "../../config/load.js";
import { invalidInput } from "../../errors.js";
import { ReadFileError, readRegularFile } from "../../util/read-file.js";

interface ConvergeCliOptions {
  readonly inventory: string;
  readonly dryRun?: boolean;
  readonly concurrency: string;
  readonly json?: boolean;
  readonly acceptNewHostKeys?: boolean;
  readonly sshConfig?: string;
  readonly connectTimeout?: string;
}

function positiveInt(value: string, option: string, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > max)
    throw invalidInput("invalid option", option, [
      `expected an integer 1-${max}, got ${JSON.stringify(value)}`,
    ]);
  return n;
}

function checkSshConfig(file: string): void {
  try {
    readRegularFile(file, { maxBytes: MAX_INPUT_BYTES });
  } catch (error) {
    throw invalidInput("cannot read --ssh-config", showFile(file), [
      error instanceof ReadFileError ? error.detail : String(error),
    ]);
  }
}

/**
 * `holdfast converge`: install, upgrade or reconfigure the agent on live nodes over SSH,
 * adopting addresses held today without a gap (design §4.7). Exit 0 when every host
 * converged, 1 when any failed, 2 on bad input.
 */
export function registerConverge(program: Command): void {
  program
    .command("converge")
    .description("install or upgrade the agent on live nodes over SSH, adopting held addresses without a gap")
    .requiredOption("--inventory <path>", "inventory (YAML or JSON, design §4.7)")
    .option("--dry-run", "probe and print each host's plan; change nothing")
    .option("--concurrency <n>", "hosts worked on at once", "10")
    .option("--json", "print the result as JSON (no progress lines)")
    .option(
      "--accept-new-host-keys",
      "accept and remember unknown host keys (StrictHostKeyChecking=accept-new)",
    )
    .option("--ssh-config <file>", "ssh client config to use instead of ~/.ssh/config (ssh -F)")
    .option("--connect-timeout <seconds>", "ssh ConnectTimeout", "10")
    .action(async (options: ConvergeCliOptions) => {
      const concurrency = positiveInt(options.concurrency, "--concurrency", 1000);
      const connectTimeoutSec = positiveInt(options.connectTimeout ?? "10", "--connect-timeout", 3600);
      // a missing ssh config would fail every host the same way: say so once, contact nobody
      if (options.sshConfig !== undefined) checkSshConfig(options.sshConfig);
      // loaded on demand: the agent's start-up never pays for converge code
      const { runConvergeCli } = await import("../../converge/run.js");
      process.exitCode = await runConvergeCli({
        inventoryFile: options.inventory,
        dryRun: options.dryRun ?? false,
        concurrency,
        json: options.json ?? false,
        acceptNewHostKeys: options.acceptNewHostKeys ?? false,
        sshConfig: options.sshConfig,
        connectTimeoutSec,
        stdout: process.stdout,
        stderr: process.stderr,
      });
    });
}
