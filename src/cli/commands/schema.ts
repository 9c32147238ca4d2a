import { type Command, Argument } from "commander";
import { z } from "zod";

/** The documents holdfast reads, each loaded only when asked for. */
const SCHEMAS: Record<string, () => Promise<z.ZodType>> = {
  config: async () => (await import("../../config/schema.js")).configSchema,
  spec: async () => (await import("../../render/spec.js")).specSchema,
  inventory: async () => (await import("../../converge/inventory.js")).inventorySchema,
};

export async function jsonSchema(name: string): Promise<unknown> {
  const load = SCHEMAS[name];
  if (!load) throw new Error(`unknown schema ${name}`);
  return z.toJSONSchema(await load(), { io: "input", unrepresentable: "any" });
}

export function registerSchema(program: Command): void {
  program
    .command("schema")
    .description("print the JSON Schema of the agent config, the render spec or the converge inventory")
    .addArgument(new Argument("<which>", "which schema").choices(Object.keys(SCHEMAS)))
    .action(async (which: string) => {
      process.stdout.write(`${JSON.stringify(await jsonSchema(which), null, 2)}\n`);
    });
}
