/** The longest input an error message echoes; the rest is cut (a 10 MB name is not a message). */
const MAX_ECHO = 80;

/**
 * How validation messages show what they got: JSON-quoted, cut to MAX_ECHO characters, and
 * "nothing" for a missing value. One helper so every schema says it the same way.
 */
export function got(input: unknown): string {
  if (input === undefined) return "nothing";
  // JSON has no Infinity or NaN (YAML's 1e400, .inf, .nan): JSON.stringify would say null
  if (typeof input === "number" && !Number.isFinite(input)) return String(input);
  let text: string;
  try {
    text = JSON.stringify(input) ?? String(input);
  } catch {
    text = String(input);
  }
  return text.length > MAX_ECHO ? `${text.slice(0, MAX_ECHO)}… (${text.length} characters)` : text;
}
