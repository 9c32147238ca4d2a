import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { scratchDir } from "../helpers/scratch.js";

const dir = scratchDir("hf-converge-cli-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cli = (...argv: string[]) => runCli(argv);

describe("holdfast converge: bad input exits 2 before any ssh", () => {
  it("GIVEN an inventory with a bad field THEN the file and field path are named, exit 2", async () => {
    const file = join(dir, "inventory.yaml");
    writeFileSync(
      file,
      "version: 1\nhosts:\n  - { name: cache-a, address: 10.0.0.1, port: 0, spec: s.yaml }\n",
    );
    const r = await cli("converge", "--inventory", file);
    expect(r).toEqual({
      code: 2,
      stdout: "",
      stderr: `holdfast: invalid inventory: ${file}\n  hosts[0].port: expected a port number 1-65535, got 0\n`,
    });
  });

  it("GIVEN --concurrency 0 THEN it says what is valid, exit 2", async () => {
    const r = await cli("converge", "--inventory", join(dir, "none.yaml"), "--concurrency", "0");
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('holdfast: invalid option: --concurrency\n  expected an integer 1-1000, got "0"\n');
  });

  it("GIVEN no inventory file THEN exit 2 naming it", async () => {
    const r = await cli("converge", "--inventory", join(dir, "missing.yaml"));
    expect(r).toMatchObject({
      code: 2,
      stderr: `holdfast: cannot read file: ${join(dir, "missing.yaml")}\n  no such file\n`,
    });
  });

  it("GIVEN no --inventory THEN commander refuses, exit 2", async () => {
    expect((await cli("converge")).code).toBe(2);
  });
});
