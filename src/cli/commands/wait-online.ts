import type { Command } from "commander";
import { DEFAULT_CONFIG_PATH, loadConfig } from "../../config/load.js";
import { parseDuration } from "../../config/duration.js";
import { HoldfastError } from "../../errors.js";
import { waitOnline } from "../../observe/wait-online.js";
import { WAIT_ONLINE_TIMEOUT } from "../../render/wait-online.js";

/**
 * `holdfast wait-online`: holdfast-wait-online.service runs it so network-online.target
 * waits for the hold. Exit 0 once every attachment is held, 1 after the timeout.
 */
export function registerWaitOnline(program: Command): void {
  program
    .command("wait-online")
    .description("wait until every attachment is held (exit 0), or the timeout passes (exit 1)")
    .option("--config <path>", "agent config", DEFAULT_CONFIG_PATH)
    .option("--timeout <duration>", "give up after this long", WAIT_ONLINE_TIMEOUT)
    .action(async (options: { config: string; timeout: string }) => {
      const timeoutMs = parseDuration(options.timeout);
      if (timeoutMs === undefined) {
        throw new HoldfastError("invalid --timeout", {
          code: "invalid-input",
          subject: "--timeout",
          details: [
            `expected a duration like "500ms", "30s" or "2m", got ${JSON.stringify(options.timeout)}`,
          ],
        });
      }
      const config = loadConfig(options.config);
      const interfaces = config.attachments.map((a) => a.interface);
      const result = await waitOnline({ runDir: config.runDir, interfaces, timeoutMs });
      if (result.held) {
        process.stdout.write(`held after ${result.waitedMs} ms: ${result.summary}\n`);
        return;
      }
      throw new HoldfastError("not held before the timeout", {
        code: "failure",
        subject: `${options.timeout}`,
        details: [result.summary, "network-online.target is reached anyway; see `holdfast status`"],
      });
    });
}
