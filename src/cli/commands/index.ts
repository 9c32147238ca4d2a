import type { Command } from "commander";
import { registerSchema } from "./schema.js";

/** One line per command; each command file exports its own register function. */
export function registerCommands(program: Command): void {
  registerSchema(program);
}
