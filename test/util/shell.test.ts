import { describe, expect, it } from "vitest";
import { shellQuote } from "../../src/util/shell.js";
import { run } from "../../src/util/exec.js";

describe("shellQuote", () => {
  it("GIVEN a quote THEN one single-quoted word", () => {
    expect(shellQuote("/tmp/it's")).toBe(`'/tmp/it'\\''s'`);
  });

  it("GIVEN anything sh would expand THEN sh prints it back unchanged", async () => {
    const value = "$(id) `id` ${HOME} \"x\" 'y' \\ * ; \n end";
    const result = await run("sh", ["-c", `printf '%s' ${shellQuote(value)}`], { timeoutMs: 5000 });
    expect(result.stdout).toBe(value);
  });

  it("GIVEN a NUL byte THEN refused (no shell word can hold one)", () => {
    expect(() => shellQuote("a\0b")).toThrow("internal: a shell word cannot hold a NUL byte");
  });
});
