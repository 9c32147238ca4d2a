import type { Command } from "commander";
import { DEFAULT_CONFIG_PATH, loadConfig } from "../../config/load.js";

/**
 * `holdfast adopt` (hidden): run by the install script before the agent starts, on the
 * node. Writes each attachment's live address into the agent's cache and makes it stop
 * expiring, so the agent holds it without DHCP and the old client can go (src/converge/adopt.ts).
 */
export function registerAdopt(program: Command): void {
  program
    .command("adopt", { hidden: true })
    .description(
      "seed the agent's cache with the addresses the interfaces carry now (used by the install script)",
    )
    .option("--config <path>", "agent config", DEFAULT_CONFIG_PATH)
    .action(async (options: { config: string }) => {
      const config = loadConfig(options.config);
      // loaded on demand: the agent's start-up never pays for converge code
      const { adoptAddresses, describeOutcome } = await import("../../converge/adopt.js");
      const { Iproute2Backend } = await import("../../net/iproute2.js");
      const outcomes = await adoptAddresses(config, { backend: new Iproute2Backend() });
      for (const outcome of outcomes) process.stdout.write(`${describeOutcome(outcome)}\n`);
    });
}
