/** `holdfast agent` through the bundled CLI: bad input as a user meets it (the lock: agent-cli.ns.test.ts). */
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { BUNDLE, NODE18, requireBundle } from "../helpers/agent-process.js";
import { scratchDir } from "../helpers/scratch.js";

const exec = promisify(execFile);

async function cli(
  args: string[],
  node = process.execPath,
): Promise<{ code: number; stdout: string; stderr: string }> {
  requireBundle();
  try {
    const { stdout, stderr } = await exec(node, [BUNDLE, ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function configFile(text: string): string {
  const path = join(scratchDir("hf-cli-"), "holdfast.yaml");
  writeFileSync(path, text);
  return path;
}

describe("holdfast agent: bad input exits 2 naming the file and field", () => {
  it.each([
    [
      "version: 1\nattachments:\n  - interface: pn0\n    link: { kind: vlan, vlanId: 5000 }\n",
      "attachments[0].link.vlanId: expected an integer 1-4094, got 5000",
    ],
    [
      "version: 1\nattachments:\n  - interface: pn0\n    colour: blue\n",
      "attachments[0].colour: unknown field",
    ],
    [
      "version: 1\nattachments:\n  - interface: pn0\n    address: { source: static }\n",
      'attachments[0].address.cidr: expected an IPv4 CIDR like "172.16.0.2/22", got nothing',
    ],
    [
      "version: 1\nattachments:\n  - interface: pn0\n    discovery: { maxBackoff: 30 }\n",
      "attachments[0].discovery.maxBackoff: expected a duration like",
    ],
    ["version: 1\nattachments: [\n", "not valid YAML or JSON"],
  ])("%j", async (text, detail) => {
    const path = configFile(text);
    const result = await cli(["agent", "--config", path], NODE18);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(path);
    expect(result.stderr).toContain(detail);
  });

  it("a missing config file", async () => {
    const result = await cli(["agent", "--config", "/nonexistent/holdfast.yaml"]);
    expect(result).toMatchObject({
      code: 2,
      stderr: "holdfast: cannot read file: /nonexistent/holdfast.yaml\n  no such file\n",
    });
  });

  it("an unknown command or option", async () => {
    expect((await cli(["agnet"])).code).toBe(2);
    expect((await cli(["agent", "--bogus"])).code).toBe(2);
  });
});
