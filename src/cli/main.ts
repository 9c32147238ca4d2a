import { Command, CommanderError } from "commander";
import { EXIT, HoldfastError } from "../errors.js";
import { describeFailure } from "./failure.js";
import { VERSION } from "../version.js";
import { registerCommands } from "./commands/index.js";

/** Builds the `holdfast` program; every command lives in its own file under commands/. */
export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
  const program = new Command("holdfast")
    .description("Hold a node's private-network address fast: discover once, cache, hold statically.")
    .version(VERSION)
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) });
  await registerCommands(program, argv);
  return program;
}

/** Runs the CLI and returns the exit code; never throws. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    const program = await buildProgram(argv);
    await program.parseAsync([...argv], { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end through here with exit code 0.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    process.stderr.write(`${describeFailure(error)}\n`);
    return error instanceof HoldfastError ? error.exitCode : EXIT.failure;
  }
}

export { describeFailure };
