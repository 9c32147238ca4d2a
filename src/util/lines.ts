import type { Readable } from "node:stream";

/**
 * Calls `onLine` with each line of `stream` (without its "\n"), the last one too if it has no
 * newline. node:readline does the same, but loading it (and readline/promises, which it
 * loads) costs the agent's start-up a few ms before its first hold for features a pipe from
 * `ip monitor` never uses.
 */
export function onLines(stream: Readable, onLine: (line: string) => void): void {
  let partial = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop()!;
    for (const line of lines) onLine(line);
  });
  stream.on("end", () => {
    if (partial !== "") onLine(partial);
    partial = "";
  });
}
