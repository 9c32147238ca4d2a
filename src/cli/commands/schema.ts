import { type Command, Argument } from "commander";
import { z } from "zod";
import { configSchema } from "../../config/schema.js";

const SCHEMAS: Record<string, z.ZodType> = { config: configSchema };

/** Lets other modules (render's spec) add their schema without touching this file's logic. */
export function addSchema(name: string, schema: z.ZodType): void {
  SCHEMAS[name] = schema;
}

export function jsonSchema(name: string): unknown {
  const schema = SCHEMAS[name];
  if (!schema) throw new Error(`unknown schema ${name}`);
  return z.toJSONSchema(schema, { io: "input", unrepresentable: "any" });
}

export function registerSchema(program: Command): void {
  program
    .command("schema")
    .description("print the JSON Schema of the agent config or the render spec")
    .addArgument(new Argument("<which>", "which schema").choices(["config", "spec"]))
    .action((which: string) => {
      process.stdout.write(`${JSON.stringify(jsonSchema(which), null, 2)}\n`);
    });
}
