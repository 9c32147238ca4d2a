import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { runLab } from "../../src/lab/run.js";
import { skipUnlessRoot } from "../helpers/root.js";

const BUNDLE = new URL("../../dist/holdfast.mjs", import.meta.url).pathname;
const PREFIX = `hflabab${process.pid % 10000}`;

function leftovers(): string[] {
  return execFileSync("ip", ["netns", "list"], { encoding: "utf8" })
    .split("\n")
    .filter((line) => line.startsWith(PREFIX));
}

const skip = skipUnlessRoot(import.meta.url, "the lab in namespaces");

describe.skipIf(skip)("runLab interrupted", () => {
  it("rejects an aborted run only after both parallel scenarios' topologies are gone", async () => {
    expect(existsSync(BUNDLE), "the lab runs its helpers from the bundle: npm run build").toBe(true);
    const controller = new AbortController();
    let started = 0;
    const run = runLab({
      scenarios: ["silent-server", "agent-kill"],
      impls: ["holdfast"],
      leaseSeconds: 5,
      prefix: PREFIX,
      signal: controller.signal,
      log: (line) => {
        if (line.endsWith("implementations started") && ++started === 2) {
          setTimeout(() => controller.abort(new Error("test interrupt")), 500);
        }
      },
    });
    await expect(run).rejects.toThrow("test interrupt");
    expect(started).toBe(2);
    // the first scenario's rejection must not end runLab while the other still tears down
    expect(leftovers(), "namespaces left when runLab rejected").toEqual([]);
  }, 120_000);
});
