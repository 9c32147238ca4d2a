import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { GOLDEN, expectGolden } from "./helpers.js";

describe("expectGolden", () => {
  const saved = process.env.UPDATE_GOLDEN;
  afterEach(() => {
    if (saved === undefined) delete process.env.UPDATE_GOLDEN;
    else process.env.UPDATE_GOLDEN = saved;
  });

  it("GIVEN a golden that does not exist and no UPDATE_GOLDEN THEN it fails and writes nothing", () => {
    delete process.env.UPDATE_GOLDEN;
    const name = `hf-missing-${process.pid}.txt`;
    expect(() => expectGolden(name, "anything\n")).toThrow(
      `golden ${name} is missing (${join(GOLDEN, name)}); create it with UPDATE_GOLDEN=1 and review it`,
    );
    expect(existsSync(join(GOLDEN, name))).toBe(false);
  });
});
