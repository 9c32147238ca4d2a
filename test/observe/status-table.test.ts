import { describe, expect, it } from "vitest";
import type { StatusDocument } from "../../src/observe/status-file.js";
import { formatAge, renderStatusTable } from "../../src/observe/status-table.js";
import { attachment } from "./fixtures.js";

const NOW = Date.parse("2026-06-04T10:05:02Z");
const status: StatusDocument = {
  version: 1,
  agent: {
    pid: 812,
    version: "0.1.0",
    startedAt: "2026-06-04T08:00:00.000Z",
    updatedAt: "2026-06-04T10:05:00.000Z",
    reconcileIntervalMs: 30_000,
  },
  attachments: [
    attachment({
      reasserts: 3,
      origin: "cache",
      lastConfirmedAt: "2026-06-04T10:04:50.000Z",
      confirmedBy: "169.254.169.254",
    }),
    attachment({
      interface: "pn1",
      state: "discovering",
      cidr: null,
      origin: null,
      heldSince: null,
      lastError: "no DHCP offer within 15s",
    }),
  ],
};

describe("renderStatusTable", () => {
  it("GIVEN a running agent THEN a headline and one aligned row per attachment", () => {
    expect(renderStatusTable(status, { running: true, reason: null, ageMs: 2000 }, ["pn0", "pn1"], NOW)).toBe(
      [
        "agent running: pid 812, version 0.1.0, up 2h05m, updated 2 s ago",
        "",
        "INTERFACE  STATE        ADDRESS                 HELD-SINCE            LAST-RECONCILE  REASSERTS  CONFIRMED                    CONFLICT  ERROR",
        "pn0        held         198.18.0.10/22 (cache)  2026-06-04 10:00:00Z  2 s ago         3          12 s ago by 169.254.169.254  -         -",
        "pn1        discovering  -                       -                     2 s ago         0          -                            -         no DHCP offer within 15s",
        "",
      ].join("\n"),
    );
  });

  it("GIVEN a dead agent THEN the headline says so loudly; unreported interfaces are listed", () => {
    const text = renderStatusTable(
      status,
      { running: false, reason: "pid 812 is gone", ageMs: 94_000 },
      ["pn0", "pn1", "pn2"],
      NOW,
    );
    expect(text.split("\n")[0]).toBe(
      "AGENT NOT RUNNING: pid 812 is gone; status below is from 1m34s ago and nothing is re-asserting these addresses",
    );
    expect(text).toMatch(/^pn2 +not-reported +- +- +- +- +- +- +-$/m);
  });

  it("GIVEN a conflict THEN the CONFLICT column names the other MAC and how long it has answered", () => {
    const conflicted: StatusDocument = {
      ...status,
      attachments: [
        attachment({ conflict: { mac: "02:00:5e:10:00:99", since: "2026-06-04T10:04:20.000Z" } }),
      ],
    };
    const text = renderStatusTable(conflicted, { running: true, reason: null, ageMs: 2000 }, ["pn0"], NOW);
    expect(text).toMatch(/^pn0 +held +198\.18\.0\.10\/22 \(static\) .* 02:00:5e:10:00:99 for 42 s +-$/m);
  });

  it("formats ages compactly", () => {
    expect([0, 59_400, 61_000, 3_600_000, 90_061_000].map(formatAge)).toEqual([
      "0 s",
      "59 s",
      "1m01s",
      "1h00m",
      "1d01h",
    ]);
  });
});
