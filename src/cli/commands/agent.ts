import type { Command } from "commander";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { startAgent, type RunningAgent } from "../../agent/agent.js";
import { checkAgentDirs, type DirProblem } from "../../agent/dirs.js";
import { acquireLock } from "../../agent/lock.js";
import { confirmWith } from "../../agent/confirm.js";
import { discoverWith } from "../../agent/discovery.js";
import { jsonLogger } from "../../agent/log.js";
import { DEFAULT_CONFIG_PATH, loadConfig } from "../../config/load.js";
import { errorMessage } from "../../errors.js";
import { createObservers } from "../../observe/index.js";
import { endAllRuns } from "../../util/exec.js";
import { agentHandlesSignals } from "../early-signals.js";

/**
 * Where DHCP exchanges keep their lease and pid files: runDir, or a private temp directory
 * when runDir cannot be written, so a broken runDir never stops discovery.
 */
function dhcpWorkRoot(runDir: string, problems: readonly DirProblem[]): string {
  if (!problems.some((p) => p.field === "runDir")) return runDir;
  try {
    return mkdtempSync(join(tmpdir(), "holdfast-"));
  } catch {
    return runDir;
  }
}

export function registerAgent(program: Command): void {
  program
    .command("agent")
    .description("run the agent in the foreground (systemd runs this)")
    .option("-c, --config <path>", "agent config (YAML or JSON)", DEFAULT_CONFIG_PATH)
    .action(async (options: { config: string }) => {
      // A 1 MB young generation keeps scavenges sub-millisecond and RSS flat for a daemon
      // whose allocations are small and short-lived (bench/restore-latency shows both).
      setFlagsFromString("--max-semi-space-size=1");
      const config = loadConfig(options.config);
      const log = jsonLogger();
      // Broken directories are reported, never a reason not to hold (the hold never waits on
      // the disk): each problem names its config field.
      const problems = checkAgentDirs(config);
      for (const problem of problems) log("agent", problem.message, { field: problem.field });
      // The lock first: a refused second agent must not bind the metrics port or touch the
      // running agent's status and textfile on its way out.
      const lock = acquireLock(config.runDir);
      let agent: RunningAgent;
      try {
        const observers = await createObservers(config, {
          onError: (what, error) => log("agent", `${what}: ${errorMessage(error)}`),
          onInfo: (message) => log("agent", message),
          problems: [
            ...problems.map((p) => ({ field: p.field, message: p.message })),
            ...(lock.problem === undefined ? [] : [{ field: "runDir", message: lock.problem }]),
          ],
        });
        agent = startAgent({
          config,
          lock,
          observers,
          log,
          discover: discoverWith(dhcpWorkRoot(config.runDir, problems)),
          confirm: confirmWith(dhcpWorkRoot(config.runDir, problems)),
        });
      } catch (error) {
        lock.release();
        throw error;
      }
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          log("agent", `${signal} received`);
          endAllRuns();
          void agent.stop().then(resolve);
        };
        process.once("SIGTERM", () => stop("SIGTERM"));
        process.once("SIGINT", () => stop("SIGINT"));
        agentHandlesSignals();
      });
    });
}
