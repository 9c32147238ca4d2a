import { describe, expect, it } from "vitest";
import {
  lineProgress,
  progressLine,
  renderPlans,
  renderTable,
  summarize,
  ttyProgress,
  type ConvergeReport,
  type HostResult,
} from "../../src/converge/report.js";

const plan = (kind: "install" | "unchanged", reasons: string[]) => ({
  kind,
  reasons,
  adopt: [],
  blockers: [],
});

const hosts: HostResult[] = [
  {
    name: "cache-a",
    address: "203.0.113.10",
    outcome: "converged",
    plan: plan("install", ["holdfast not installed: install 0.1.0"]),
    failedAt: undefined,
    error: undefined,
    held: [{ interface: "pn0", cidr: "172.16.0.2/22" }],
    changes: ["/usr/local/bin/holdfast", "pn0: adopted 172.16.0.2/22 (cached; it no longer expires)"],
    durationMs: 8312,
  },
  {
    name: "cache-b",
    address: "203.0.113.11",
    outcome: "unchanged",
    plan: plan("unchanged", ["holdfast 0.1.0 holds pn0"]),
    failedAt: undefined,
    error: undefined,
    held: [{ interface: "pn0", cidr: "172.16.0.3/22" }],
    changes: [],
    durationMs: 1204,
  },
  {
    name: "cache-c",
    address: "203.0.113.12",
    outcome: "failed",
    plan: undefined,
    failedAt: "probe",
    error: "unreachable: ssh: connect to host 203.0.113.12 port 22: No route to host",
    held: [],
    changes: [],
    durationMs: 3060,
  },
];
const report: ConvergeReport = {
  version: 1,
  dryRun: false,
  hosts,
  summary: summarize(hosts),
  durationMs: 8400,
};

describe("report", () => {
  it("GIVEN three hosts THEN the summary table has one aligned row each and a count line", () => {
    expect(renderTable(report)).toBe(
      [
        "HOST     ADDRESS       PLAN       RESULT     TIME  DETAIL",
        "cache-a  203.0.113.10  install    converged  8.3s  held pn0 172.16.0.2/22 (2 changes)",
        "cache-b  203.0.113.11  unchanged  unchanged  1.2s  held pn0 172.16.0.3/22",
        "cache-c  203.0.113.12  -          failed     3.1s  probe: unreachable: ssh: connect to host 203.0.113.12 port 22: No route to host",
        "",
        "3 hosts: 1 converged, 1 unchanged, 1 failed in 8.4s",
        "",
      ].join("\n"),
    );
  });

  it("GIVEN a dry run THEN each host's plan and reasons are listed", () => {
    expect(renderPlans({ ...report, dryRun: true })).toBe(
      [
        "cache-a (203.0.113.10): install",
        "  - holdfast not installed: install 0.1.0",
        "cache-b (203.0.113.11): unchanged",
        "  - holdfast 0.1.0 holds pn0",
        "cache-c (203.0.113.12): failed at probe: unreachable: ssh: connect to host 203.0.113.12 port 22: No route to host",
        "",
      ].join("\n"),
    );
  });

  it("GIVEN a terminal THEN every host has one line, redrawn in place, cut to the terminal width", () => {
    let out = "";
    const sink = ttyProgress(["cache-a", "b"], (t) => (out += t), 40);
    expect(out).toBe("\r\x1b[2Kcache-a  waiting\n\r\x1b[2Kb        waiting\n");
    out = "";
    sink.update("b", { stage: "apply", plan: "install" });
    expect(out).toBe("\x1b[2A\r\x1b[2Kcache-a  waiting\n\r\x1b[2Kb        applying (install)…\n");
    out = "";
    sink.update("cache-a", { stage: "done", result: hosts[0]! });
    expect(out.split("\n")[0]).toBe("\x1b[2A\r\x1b[2Kcache-a  converged (install, 8.3s): he…");
  });

  it("GIVEN a pseudo-terminal that reports 0 columns THEN short lines are left whole", () => {
    let out = "";
    ttyProgress(["n1"], (t) => (out += t), 0);
    expect(out).toBe("\r\x1b[2Kn1  waiting\n");
  });

  it("GIVEN no terminal THEN one line per host when it finishes", () => {
    let out = "";
    const sink = lineProgress(["cache-a", "cache-c"], (t) => (out += t));
    sink.update("cache-a", { stage: "probe" });
    sink.update("cache-c", { stage: "done", result: hosts[2]! });
    expect(out).toBe(
      "cache-c  failed (3.1s): probe: unreachable: ssh: connect to host 203.0.113.12 port 22: No route to host\n",
    );
    expect(progressLine("x", 3, { stage: "verify" })).toBe("x    verifying…");
  });
});
