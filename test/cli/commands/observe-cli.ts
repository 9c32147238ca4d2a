import { Command } from "commander";
import { vi } from "vitest";
import { registerCheck } from "../../../src/cli/commands/check.js";
import { registerStatus } from "../../../src/cli/commands/status.js";
import { HoldfastError } from "../../../src/errors.js";

/**
 * Runs `status` / `check` in-process and captures what they print. The program holds
 * only these two commands, mapping errors the way src/cli/main.ts does, so these tests
 * do not depend on every other command loading.
 */
export async function runCli(
  argv: readonly string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const out = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  const program = new Command("holdfast").exitOverride();
  registerStatus(program);
  registerCheck(program);
  try {
    await program.parseAsync([...argv], { from: "user" });
    return { code: typeof process.exitCode === "number" ? process.exitCode : 0, stdout, stderr };
  } catch (error) {
    if (!(error instanceof HoldfastError)) throw error;
    process.stderr.write(`holdfast: ${error.describe()}\n`);
    return { code: error.exitCode, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.exitCode = undefined;
  }
}
