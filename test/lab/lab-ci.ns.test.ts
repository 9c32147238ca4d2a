import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { runLab, type LabResult } from "../../src/lab/run.js";
import type { ScenarioName } from "../../src/lab/scenarios/types.js";
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
 * The CI subset of `holdfast lab`: the incident (silent-server), a flushed address and a reboot
 * with a silent server, through the real lab code, real Kea, real dhclient and the real agent
 * bundle, in one run (the scenarios run in parallel; address-flush's 70 s window bounds it).
 * CI fails when holdfast does not pass one, or when dhclient's verdicts change.
 */
describe.skipIf(skip)("lab CI subset", () => {
  let results: readonly LabResult[] = [];
  const result = (scenario: ScenarioName, impl: string): LabResult => {
    const found = results.find((r) => r.scenario === scenario && r.impl === impl);
    expect(found, `${scenario} × ${impl} in the lab's results`).toBeDefined();
    return found!;
  };

  beforeAll(async () => {
    expect(existsSync(BUNDLE), "the lab runs the agent from the bundle: npm run build").toBe(true);
    const started = Date.now();
    const report = await runLab({
      scenarios: ["silent-server", "address-flush", "reboot-silent"],
      impls: ["dhclient", "holdfast"],
      leaseSeconds: 5,
      prefix: PREFIX,
      log: (line) => console.log(`lab: ${line}`),
    });
    results = report.results;
    console.log(`lab CI subset: ${((Date.now() - started) / 1000).toFixed(0)} s`);
    console.log(JSON.stringify(results, null, 2));
    expect(leftovers(), "namespaces the lab left").toEqual([]);
  }, 240_000);

  it("silent server: dhclient loses the address, holdfast holds it with no probe lost", () => {
    const holdfast = result("silent-server", "holdfast");
    expect(holdfast, JSON.stringify(holdfast)).toMatchObject({
      pass: true,
      addressLostMs: 0,
      probeFailures: 0,
    });
    expect(holdfast.probeTotal).toBeGreaterThan(100);
    const dhclient = result("silent-server", "dhclient");
    expect(dhclient, "the incident: dhclient's address lapses").toMatchObject({
      pass: false,
      timeToRestoreMs: null,
    });
    expect(dhclient.addressLostMs).toBeGreaterThan(0);
    expect(dhclient.probeFailures).toBeGreaterThan(0);
  });

  it("address flush: holdfast restores within 1 s and holds; dhclient only after seconds", () => {
    const holdfast = result("address-flush", "holdfast");
    expect(holdfast.notes, "holdfast's verdict notes").toEqual([]);
    expect(holdfast.pass).toBe(true);
    expect(holdfast.timeToRestoreMs, JSON.stringify(holdfast)).toBeLessThanOrEqual(1000);
    const dhclient = result("address-flush", "dhclient");
    expect(dhclient.pass, JSON.stringify(dhclient)).toBe(false);
    // dhclient re-adds the address only when its lease has run out and it binds again; when
    // that happens to fall inside the flush, the flush's next round deletes it once more
    expect(dhclient.notes.length, "dhclient puts it back only when its lease runs out").toBeGreaterThan(0);
    for (const note of dhclient.notes) {
      expect(note).toMatch(
        /^(restored after \d+(\.\d)? s \(rule: ≤ 1\.0 s\)|address lost again \d+× after the restore)$/,
      );
    }
  });

  it("reboot with a silent server: holdfast's cache brings it back, dhclient's never", () => {
    const holdfast = result("reboot-silent", "holdfast");
    expect(holdfast.notes, "holdfast's verdict notes").toEqual([]);
    expect(holdfast.pass).toBe(true);
    expect(holdfast.timeToRestoreMs, JSON.stringify(holdfast)).toBeLessThanOrEqual(2000);
    const dhclient = result("reboot-silent", "dhclient");
    expect(dhclient, JSON.stringify(dhclient)).toMatchObject({
      pass: false,
      timeToRestoreMs: null,
      notes: ["address not back by the end of the run"],
    });
  });
});
