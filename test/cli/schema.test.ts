import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";

describe("holdfast schema", () => {
  it("prints the config schema with its bounds", async () => {
    const { code, stdout } = await runCli(["schema", "config"]);
    expect(code).toBe(0);
    const schema = JSON.parse(stdout) as { properties: Record<string, unknown> };
    expect(Object.keys(schema.properties)).toEqual([
      "version",
      "stateDir",
      "runDir",
      "metrics",
      "attachments",
    ]);
    expect(stdout).toContain('"maximum": 4094');
  });

  it("prints the render spec schema", async () => {
    const { code, stdout } = await runCli(["schema", "spec"]);
    expect(code).toBe(0);
    expect(Object.keys((JSON.parse(stdout) as { properties: object }).properties)).toEqual([
      "version",
      "node",
      "agent",
    ]);
  });

  it("prints the converge inventory schema", async () => {
    const { code, stdout } = await runCli(["schema", "inventory"]);
    expect(code).toBe(0);
    expect(Object.keys((JSON.parse(stdout) as { properties: object }).properties)).toEqual([
      "version",
      "defaults",
      "hosts",
    ]);
  });

  it("rejects another name with exit 2", async () => {
    expect((await runCli(["schema", "status"])).code).toBe(2);
  });
});
