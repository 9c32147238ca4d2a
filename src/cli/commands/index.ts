import type { Command } from "commander";
import { registerSchema } from "./schema.js";
import { registerStatus } from "./status.js";
import { registerCheck } from "./check.js";

/** One line per command; each command file exports its own register function. */
export function registerCommands(program: Command): void {
  registerSchema(program);
  registerStatus(program);
  registerCheck(program);
}
