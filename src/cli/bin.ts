import { agentOnlyArgs } from "./agent-args.js";
import { installEarlyExit } from "./early-signals.js";

installEarlyExit();
const argv = process.argv.slice(2);
const agent = agentOnlyArgs(argv);
// The agent's own command line skips the CLI parser and every other command: the bundle
// then evaluates only what the agent runs (dynamic imports stay lazy in esbuild's bundle).
process.exitCode =
  agent === undefined
    ? await (await import("./main.js")).main(argv)
    : await (await import("./commands/agent.js")).runAgentCommand(agent.config);
