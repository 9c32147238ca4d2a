// C0 controls, DEL and C1 controls: an escape sequence in a file or an error text must
// never reach a terminal (or node-problem-detector's condition message) as a command.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/** `a\x1b[2Jb` → `a\x1b[2Jb` shown literally: each control character as `\xNN`. */
export function printable(text: string): string {
  return text.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}
