import type { Command } from "commander";
import { registerAgent } from "./agent.js";
import { registerSchema } from "./schema.js";
import { registerStatus } from "./status.js";
import { registerCheck } from "./check.js";
import { registerRender } from "./render.js";
import { registerLab } from "./lab.js";
import { registerAdopt } from "./adopt.js";
import { registerConverge } from "./converge.js";

/** One line per command; each command file exports its own register function. */
export function registerCommands(program: Command): void {
  registerAgent(program);
  registerSchema(program);
  registerStatus(program);
  registerCheck(program);
  registerRender(program);
  registerLab(program);
  registerAdopt(program);
  registerConverge(program);
}
