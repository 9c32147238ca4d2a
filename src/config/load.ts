import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import { HoldfastError, invalidInput } from "../errors.js";
import { issueLines, showFile } from "./problems.js";
import { configSchema, type Config } from "./schema.js";
import { DEFAULT_CONFIG_PATH, readInputText } from "./input.js";

export { MAX_INPUT_BYTES } from "./input.js";

export { formatPath, issueLines, showFile, showKey } from "./problems.js";

export { DEFAULT_CONFIG_PATH } from "./input.js";

function parseProblem(message: string): string {
  // the parser's first line names the line and column; it is cut short so no long run of
  // the file's own text comes along
  const first = message.split("\n")[0] ?? "";
  return first.length > 120 ? `${first.slice(0, 120)}…` : first;
}

// Above this, a document that is valid JSON is read by JSON.parse: the YAML parser takes
// seconds per 100 KB of flow mapping (a 540 KB JSON of 50,000 keys took 18 s of CPU).
// Real configs are a few KB and keep the YAML parser's duplicate-key check.
const JSON_FAST_PATH_BYTES = 64 * 1024;

/** Reads YAML or JSON text (JSON is YAML), or fails naming the file and the line. */
export function parseDocument(text: string, file: string): unknown {
  if (text.length > JSON_FAST_PATH_BYTES && /^\s*[[{]/.test(text)) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      // not JSON: YAML says what is wrong
    }
  }
  try {
    return parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (error) {
    throw new HoldfastError("not valid YAML or JSON", {
      code: "invalid-input",
      subject: file,
      details: [parseProblem(error instanceof Error ? error.message : "parse error")],
      cause: error,
    });
  }
}

export function readDocument(file: string): unknown {
  return parseDocument(readInputText(file), showFile(file));
}

/** Validates any document against a schema; every problem is reported at once with its field path. */
export function validate<S extends z.ZodType>(
  schema: S,
  document: unknown,
  file: string,
  what: string,
): z.output<S> {
  let result;
  try {
    result = schema.safeParse(document);
  } catch (error) {
    // a document nested thousands deep overflows the validator's stack: bad input, not a crash
    if (error instanceof RangeError)
      throw invalidInput(`invalid ${what}`, file, ["(top level): nested too deeply"]);
    throw error;
  }
  if (result.success) return result.data;
  throw invalidInput(`invalid ${what}`, file, issueLines(result.error));
}

export function parseConfig(document: unknown, file = "<config>"): Config {
  return validate(configSchema, document, file, "config");
}

/** A config file's text, read already (the agent reads it once for its snapshot too), validated. */
export function configFromText(text: string, file: string): Config {
  return parseConfig(parseDocument(text, showFile(file)), file);
}

export function loadConfig(file: string = DEFAULT_CONFIG_PATH): Config {
  return configFromText(readInputText(file), file);
}
