import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/*
 * Scratch directories for tests, removed when their test file ends (test/setup/scratch.ts
 * registers the removal for every file). A leftover directory is a leftover like a namespace:
 * the property tests alone made one per fast-check run, tens of thousands over a few CI runs.
 */

const made: string[] = [];

/** A fresh directory under the OS temp dir, named `<prefix>XXXXXX`; gone after the file. */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Removes every scratch directory made so far in this test file. */
export function removeScratchDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}
