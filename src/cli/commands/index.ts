import type { Command } from "commander";

type Register = (program: Command) => void;

/**
 * Every command, by the name(s) it registers, loaded on demand: the bundle is one file, but
 * esbuild keeps dynamically imported modules lazy, so `holdfast agent` never evaluates the
 * lab, render or converge code (start-up time and the agent's resident memory).
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  agent: async () => (await import("./agent.js")).registerAgent,
  status: async () => (await import("./status.js")).registerStatus,
  check: async () => (await import("./check.js")).registerCheck,
  render: async () => (await import("./render.js")).registerRender,
  converge: async () => (await import("./converge.js")).registerConverge,
  adopt: async () => (await import("./adopt.js")).registerAdopt,
  lab: async () => (await import("./lab.js")).registerLab,
  schema: async () => (await import("./schema.js")).registerSchema,
  "wait-online": async () => (await import("./wait-online.js")).registerWaitOnline,
  prove: async () => (await import("./prove.js")).registerProve,
};

/** Hidden helper commands live in the module of the command they serve. */
const ALIASES: Record<string, string> = { "lab-probe": "lab", "lab-serve": "lab" };

/**
 * Registers the command named on the command line, or all of them when none is (help,
 * version, a typo: commander then lists or rejects with the full set).
 */
export async function registerCommands(program: Command, argv: readonly string[]): Promise<void> {
  const first = argv.find((arg) => !arg.startsWith("-"));
  const name = first === undefined ? undefined : (ALIASES[first] ?? first);
  const names = name !== undefined && name in COMMANDS ? [name] : Object.keys(COMMANDS);
  for (const each of names) (await COMMANDS[each]!())(program);
}
