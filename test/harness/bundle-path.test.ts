import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { HoldfastError } from "../../src/errors.js";
import { bundlePath, selfCommand } from "../../src/harness/bundle-path.js";

describe("lab self command", () => {
  it("GIVEN no bundle where render looks for it THEN it is a failure (exit 1) that says to build", () => {
    let caught: unknown;
    try {
      bundlePath(["/nonexistent/holdfast.mjs"]);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(HoldfastError);
    const error = caught as HoldfastError;
    expect(error.code).toBe("failure");
    expect(error.exitCode).toBe(1);
    expect(error.describe()).toBe(
      "the lab needs the bundled program, run `npm run build` first: holdfast.mjs\n" +
        "  looked in: /nonexistent/holdfast.mjs",
    );
  });

  it("GIVEN the sources WHEN a helper is started THEN it is node running dist/holdfast.mjs", () => {
    const dist = resolve(import.meta.dirname, "../../dist/holdfast.mjs");
    expect(bundlePath([dist])).toBe(dist);
    const cmd = selfCommand("lab-probe", ["--out", "x"]);
    expect(cmd.file).toBe(process.execPath);
    expect(cmd.args).toEqual([dist, "lab-probe", "--out", "x"]);
  });
});
