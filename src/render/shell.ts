/**
 * The only two ways data from a spec enters a rendered shell script. Both make it inert:
 * a single-quoted word is never expanded, and neither is the body of a heredoc whose
 * delimiter is quoted.
 */

// the one implementation, shared with the DHCP hooks
export { shellQuote } from "../util/shell.js";

const DELIMITER = "HOLDFAST_EOF";

/**
 * A quoted heredoc (`<<'HOLDFAST_EOF'`) carrying `content` byte for byte. The content must
 * end with a newline (a heredoc always does); the delimiter gets a suffix until no line of
 * the content equals it, so no content can end the heredoc early.
 */
export function quotedHeredoc(command: string, content: string): string {
  if (!content.endsWith("\n")) throw new Error("internal: heredoc content must end with a newline");
  if (content.includes("\0")) throw new Error("internal: heredoc content cannot hold a NUL byte");
  const lines = new Set(content.split("\n"));
  let delimiter = DELIMITER;
  for (let n = 1; lines.has(delimiter); n += 1) delimiter = `${DELIMITER}_${n}`;
  return `${command} <<'${delimiter}'\n${content}${delimiter}\n`;
}
