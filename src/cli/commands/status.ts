import type { Command } from "commander";
import { DEFAULT_CONFIG_PATH, loadConfig } from "../../config/load.js";
import { HoldfastError } from "../../errors.js";
import { addressesOnLinks } from "../../observe/kernel-view.js";
import { readStatus } from "../../observe/status-read.js";
import { renderStatusTable } from "../../observe/status-table.js";

/**
 * `holdfast status`: what the agent holds, per attachment. Exits 1 when the agent is not
 * running (the table is still shown, marked as history), so scripts can rely on it.
 */
export function registerStatus(program: Command): void {
  program
    .command("status")
    .description("what is held, per attachment (exit 1 when the agent is not running)")
    .option("--config <path>", "agent config", DEFAULT_CONFIG_PATH)
    .option("--json", "print the status as JSON")
    .action(async (options: { config: string; json?: boolean }) => {
      const config = loadConfig(options.config);
      const reading = readStatus(config.runDir);
      if (reading.kind === "missing") {
        throw new HoldfastError("no status file", {
          code: "failure",
          subject: reading.file,
          details: ["the agent has not run since boot; see `systemctl status holdfast`"],
        });
      }
      if (reading.kind === "unreadable") {
        throw new HoldfastError("cannot read status file", {
          code: "failure",
          subject: reading.file,
          details: [reading.detail],
          cause: reading.cause,
        });
      }
      const { status, liveness } = reading;
      const interfaces = config.attachments.map((a) => a.interface);
      // what the kernel really has, beside what the agent wrote down
      const kernel = await addressesOnLinks(interfaces);
      if (options.json) {
        const agent = { ...status.agent, running: liveness.running, notRunningReason: liveness.reason };
        const attachments = status.attachments.map((a) => ({
          ...a,
          onLink:
            kernel === undefined || a.cidr === null ? null : (kernel.get(a.interface) ?? []).includes(a.cidr),
        }));
        process.stdout.write(`${JSON.stringify({ ...status, agent, attachments }, null, 2)}\n`);
      } else {
        process.stdout.write(renderStatusTable(status, liveness, interfaces, Date.now(), kernel));
      }
      if (!liveness.running) process.exitCode = 1;
    });
}
