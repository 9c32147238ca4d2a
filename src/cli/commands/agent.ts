import type { Command } from "commander";
import { startAgent, type RunningAgent } from "../../agent/agent.js";
import { checkAgentDirs, dhcpWorkRoot } from "../../agent/dirs.js";
import { acquireLock } from "../../agent/lock.js";
import { confirmWith } from "../../agent/confirm.js";
import { discoverWith } from "../../agent/discovery.js";
import { jsonLogger } from "../../agent/log.js";
import { DEFAULT_CONFIG_PATH } from "../../config/input.js";
import { loadAgentConfig } from "../../config/snapshot.js";
import { EXIT, HoldfastError, errorMessage } from "../../errors.js";
import { deferredObservers } from "../../observe/deferred.js";
import { createObservers } from "../../observe/index.js";
import { endAllRuns } from "../../util/exec.js";
import { agentHandlesSignals } from "../early-signals.js";
import { describeFailure } from "../failure.js";

export function registerAgent(program: Command): void {
  program
    .command("agent")
    .description("run the agent in the foreground (systemd runs this)")
    .option("-c, --config <path>", "agent config (YAML or JSON)", DEFAULT_CONFIG_PATH)
    .action((options: { config: string }) => runAgent(options.config));
}

/**
 * `holdfast agent` without commander (src/cli/agent-args.ts says when): the same run, and the
 * same exit code and message for a failure as main() gives.
 */
export async function runAgentCommand(configPath: string = DEFAULT_CONFIG_PATH): Promise<number> {
  try {
    await runAgent(configPath);
    return typeof process.exitCode === "number" ? process.exitCode : EXIT.ok;
  } catch (error) {
    process.stderr.write(`${describeFailure(error)}\n`);
    return error instanceof HoldfastError ? error.exitCode : EXIT.failure;
  }
}

/** Runs the agent until SIGTERM or SIGINT. */
async function runAgent(configPath: string): Promise<void> {
  // a config validated before holds without the YAML parser or the schema (config/snapshot.ts)
  const loaded = await loadAgentConfig(configPath);
  const config = loaded.config;
  const log = jsonLogger();
  // Broken directories are reported, never a reason not to hold (the hold never waits on
  // the disk): each problem names its config field.
  const problems = checkAgentDirs(config);
  for (const problem of problems) log("agent", problem.message, { field: problem.field });
  // The lock first: a refused second agent must not bind the metrics port or touch the
  // running agent's status and textfile on its way out.
  const lock = acquireLock(config.runDir);
  const dhcpRoot = dhcpWorkRoot(config, problems);
  if (dhcpRoot.note !== undefined) log("agent", dhcpRoot.note);
  // Hold first, observe after: the observers (prom-client, the metrics port, status.json)
  // are made once every attachment has had its first pass (agent.started, at most 1 s), and
  // hear everything the agent said meanwhile.
  const deferred = deferredObservers((key, error) =>
    log(
      "agent",
      `${key === "stopping" ? "observer stop" : `observer ${key}`} failed: ${errorMessage(error)}`,
    ),
  );
  let agent: RunningAgent;
  try {
    agent = startAgent({
      config,
      lock,
      observers: [deferred.observer],
      log,
      discover: discoverWith(dhcpRoot.path),
      confirm: confirmWith(dhcpRoot.path),
    });
  } catch (error) {
    lock.release();
    throw error;
  }
  try {
    await agent.started;
    // A 1 MB young generation keeps scavenges sub-millisecond and RSS flat for a daemon
    // whose allocations are small and short-lived (bench/restore-latency shows both). Set
    // after the first hold: node:v8 and what it loads cost start-up before it.
    (await import("node:v8")).setFlagsFromString("--max-semi-space-size=1");
    try {
      loaded.remember();
    } catch (error) {
      // the next start validates the config again: slower, never wrong
      log("agent", `config snapshot not kept: ${errorMessage(error)}`);
    }
    deferred.attach(
      await createObservers(config, {
        onError: (what, error) => log("agent", `${what}: ${errorMessage(error)}`),
        onInfo: (message) => log("agent", message),
        problems: [
          ...problems.map((p) => ({ field: p.field, message: p.message })),
          ...(lock.problem === undefined ? [] : [{ field: "runDir", message: lock.problem }]),
        ],
      }),
    );
  } catch (error) {
    // as before, a failure to set up reporting ends the agent (addresses stay: design §3)
    deferred.abandon();
    await agent.stop();
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
}
