import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { runLab } from "../../src/lab/run.js";
import { skipUnlessRoot } from "../helpers/root.js";

const BUNDLE = new URL("../../dist/holdfast.mjs", import.meta.url).pathname;
const PREFIX = `hflabci${process.pid % 10000}`;

function leftovers(): string[] {
  return execFileSync("ip", ["netns", "list"], { encoding: "utf8" })
    .split("\n")
    .filter((line) => line.startsWith(PREFIX));
}

const skip = skipUnlessRoot(import.meta.url, "the lab in namespaces, Kea, dhclient");

/**
 * The CI subset of `holdfast lab`: the incident itself, through the real lab code, real Kea,
 * real dhclient and the real agent bundle. CI fails when holdfast does not pass.
 */
describe.skipIf(skip)("lab CI subset: silent-server", () => {
  it("silent server: dhclient loses the address, holdfast holds it with no probe lost", async () => {
    expect(existsSync(BUNDLE), "the lab runs the agent from the bundle: npm run build").toBe(true);
    const report = await runLab({
      scenarios: ["silent-server"],
      impls: ["dhclient", "holdfast"],
      leaseSeconds: 5,
      prefix: PREFIX,
      log: (line) => console.log(`lab: ${line}`),
    });
    const byImpl = Object.fromEntries(report.results.map((r) => [r.impl, r]));
    console.log(JSON.stringify(report.results, null, 2));
    expect(byImpl.holdfast).toMatchObject({ pass: true, addressLostMs: 0, probeFailures: 0 });
    expect(byImpl.holdfast!.probeTotal).toBeGreaterThan(100);
    expect(byImpl.dhclient).toMatchObject({ pass: false, timeToRestoreMs: null });
    expect(byImpl.dhclient!.addressLostMs).toBeGreaterThan(0);
    expect(byImpl.dhclient!.probeFailures).toBeGreaterThan(0);
    expect(leftovers()).toEqual([]);
  }, 180_000);
});
