/**
 * The agent's command lines that need no CLI parser: `agent`, `agent --config PATH`,
 * `agent -c PATH`, `agent --config=PATH` (the unit runs the second). For these, bin.ts runs
 * the agent without loading commander or any other command (start-up time: the first hold
 * comes sooner). Anything else (help, a typo, an unknown option) returns undefined and goes
 * through commander, which answers exactly as before.
 */
export function agentOnlyArgs(argv: readonly string[]): { readonly config: string | undefined } | undefined {
  if (argv[0] !== "agent") return undefined;
  if (argv.length === 1) return { config: undefined };
  if (argv.length === 2 && argv[1]!.startsWith("--config=") && argv[1]!.length > "--config=".length)
    return { config: argv[1]!.slice("--config=".length) };
  // a value that looks like an option is left to commander, which rejects or reads it its way
  if (argv.length === 3 && (argv[1] === "--config" || argv[1] === "-c") && !argv[2]!.startsWith("-"))
    return { config: argv[2]! };
  return undefined;
}
