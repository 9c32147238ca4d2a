import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import { HoldfastError, invalidInput } from "../errors.js";
import { configSchema, type Config } from "./schema.js";
import { ReadFileError, readRegularFile } from "../util/read-file.js";

/** Input files (config, spec, inventory) are small; a larger one is refused unread. */
export const MAX_INPUT_BYTES = 1024 * 1024;

// A key shown in an error: a plausible field name is echoed, anything else (a line of a
// shadow file parsed as a key) is only described, so no file content leaks into a message.
const SHOWABLE_KEY = /^[A-Za-z_][A-Za-z0-9_-]{0,31}$/;

/** `name` for a plausible field name, else `a key of 57 characters`. */
export function showKey(key: PropertyKey): string {
  const text = String(key);
  return SHOWABLE_KEY.test(text) ? text : `(a key of ${text.length} characters)`;
}

/** A file name as an error subject: quoted when empty or odd, so `--config ''` still says which. */
export function showFile(file: string): string {
  return /^[\w./@+-]+$/.test(file) ? file : JSON.stringify(file).slice(0, 200);
}

export const DEFAULT_CONFIG_PATH = "/etc/holdfast/holdfast.yaml";

/** `attachments[0].link.vlanId`, the way a user would write the path. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? showKey(key) : `.${showKey(key)}`;
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
  let text: string;
  try {
    // a FIFO, a device (a symlink to /dev/zero) or a huge file is refused before a byte is read
    text = readRegularFile(file, { maxBytes: MAX_INPUT_BYTES });
  } catch (error) {
    const why = error instanceof ReadFileError ? error.detail : String(error);
    throw new HoldfastError("cannot read file", {
      code: "invalid-input",
      subject: showFile(file),
      details: [why],
      cause: error,
    });
  }
  return parseDocument(text, showFile(file));
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

export function loadConfig(file: string = DEFAULT_CONFIG_PATH): Config {
  return parseConfig(readDocument(file), file);
}
