/**
 * How a problem in an input file is written: the field's path the way a user would write it,
 * one line per problem. Its own module, apart from the loaders, so the agent's error reporting
 * and cache do not load the YAML parser or build the config's schema to use it.
 */
import type { z } from "zod";

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
