import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import { HoldfastError, invalidInput } from "../errors.js";
import { configSchema, type Config } from "./schema.js";

export const DEFAULT_CONFIG_PATH = "/etc/holdfast/holdfast.yaml";

/** `attachments[0].link.vlanId`, the way a user would write the path. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out === "" ? "(top level)" : out;
}

function issueLine(issue: z.core.$ZodIssue): string {
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => `${formatPath([...issue.path, key])}: unknown field`).join("\n");
  }
  return `${formatPath(issue.path)}: ${issue.message}`;
}

/** One readable line per problem (`field.path: expected …, got …`), never zod's raw dump. */
export function issueLines(error: { readonly issues: readonly z.core.$ZodIssue[] }): string[] {
  return error.issues.flatMap((issue) => issueLine(issue).split("\n"));
}

/** Reads YAML or JSON text (JSON is YAML), or fails naming the file and the line. */
export function parseDocument(text: string, file: string): unknown {
  try {
    return parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (error) {
    const detail = error instanceof Error ? (error.message.split("\n")[0] ?? "") : String(error);
    throw new HoldfastError("not valid YAML or JSON", {
      code: "invalid-input",
      subject: file,
      details: [detail],
      cause: error,
    });
  }
}

export function readDocument(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : String(code);
    throw new HoldfastError("cannot read file", {
      code: "invalid-input",
      subject: file,
      details: [why],
      cause: error,
    });
  }
  return parseDocument(text, file);
}

/** Validates any document against a schema; every problem is reported at once with its field path. */
export function validate<S extends z.ZodType>(
  schema: S,
  document: unknown,
  file: string,
  what: string,
): z.output<S> {
  const result = schema.safeParse(document);
  if (result.success) return result.data;
  throw invalidInput(`invalid ${what}`, file, issueLines(result.error));
}

export function parseConfig(document: unknown, file = "<config>"): Config {
  return validate(configSchema, document, file, "config");
}

export function loadConfig(file: string = DEFAULT_CONFIG_PATH): Config {
  return parseConfig(readDocument(file), file);
}
