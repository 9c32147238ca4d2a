import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AttachmentStatus } from "../../src/agent/events.js";
import { evaluateCheck, evaluateConflictCheck, fitLine, MAX_CHECK_LINE } from "../../src/observe/check.js";
import type { StatusReading } from "../../src/observe/status-read.js";
import { attachment } from "./fixtures.js";

const FILE = "/run/holdfast/status.json";

function running(attachments: readonly AttachmentStatus[]): StatusReading {
  return {
    kind: "ok",
    file: FILE,
    liveness: { running: true, reason: null, ageMs: 100 },
    status: {
      version: 1,
      agent: {
        pid: 10,
        version: "0.1.0",
        startedAt: "2026-06-04T10:00:00.000Z",
        updatedAt: "2026-06-04T10:05:00.000Z",
        reconcileIntervalMs: 1000,
      },
      attachments,
    },
  };
}

describe("evaluateCheck", () => {
  it("GIVEN every configured attachment held THEN exit 0 with the addresses", () => {
    expect(evaluateCheck(["pn0"], running([attachment()]))).toEqual({
      exitCode: 0,
      line: "ok: pn0 held 198.18.0.10/22",
    });
  });

  it("GIVEN a held address another host answers for THEN exit 1 naming the address and the MAC", () => {
    const conflict = { mac: "02:00:5e:10:00:99", since: "2026-06-04T10:04:00.000Z" };
    const reading = running([attachment({ cidr: "172.16.0.2/22", conflict })]);
    expect(evaluateCheck(["pn0"], reading)).toEqual({
      exitCode: 1,
      line: "conflict: pn0 172.16.0.2 also at 02:00:5e:10:00:99",
    });
    expect(evaluateConflictCheck(["pn0"], reading)).toEqual({
      exitCode: 1,
      line: "conflict: pn0 172.16.0.2 also at 02:00:5e:10:00:99",
    });
  });

  it("GIVEN no conflict THEN the conflict-only check is ok even while an attachment is not held", () => {
    const reading = running([attachment({ state: "discovering", cidr: null })]);
    expect(evaluateConflictCheck(["pn0"], reading)).toEqual({ exitCode: 0, line: "ok: no address conflict" });
    expect(evaluateConflictCheck(["pn0"], { kind: "missing", file: FILE }).exitCode).toBe(2);
  });

  it("GIVEN one attachment waiting for its link THEN exit 1 naming it and its state", () => {
    const reading = running([
      attachment(),
      attachment({ interface: "pn1", state: "waiting-link", cidr: null }),
    ]);
    expect(evaluateCheck(["pn0", "pn1"], reading)).toEqual({
      exitCode: 1,
      line: "problem: pn1 waiting-link",
    });
  });

  it("GIVEN a failed attachment with an error THEN the error is in the line", () => {
    const reading = running([
      attachment({ state: "failed", lastError: "RTNETLINK answers: Permission denied" }),
    ]);
    expect(evaluateCheck(["pn0"], reading)).toEqual({
      exitCode: 1,
      line: "problem: pn0 failed (RTNETLINK answers: Permission denied)",
    });
  });

  it("GIVEN a configured attachment the agent does not report THEN exit 1", () => {
    expect(evaluateCheck(["pn0", "pn2"], running([attachment()]))).toEqual({
      exitCode: 1,
      line: "problem: pn2 not reported by the agent",
    });
  });

  it("GIVEN no status file THEN the agent is not running: exit 1", () => {
    expect(evaluateCheck(["pn0"], { kind: "missing", file: FILE })).toEqual({
      exitCode: 1,
      line: "problem: agent not running (no /run/holdfast/status.json)",
    });
  });

  it("GIVEN a stale status THEN exit 1 with the reason, whatever the attachments say", () => {
    const reading: StatusReading = {
      ...running([attachment()]),
      liveness: { running: false, reason: "status not updated for 94 s", ageMs: 94_000 },
    } as StatusReading;
    expect(evaluateCheck(["pn0"], reading)).toEqual({
      exitCode: 1,
      line: "problem: agent not running (status not updated for 94 s)",
    });
  });

  it("GIVEN an unparseable status file THEN unknown: exit 2", () => {
    expect(evaluateCheck(["pn0"], { kind: "unreadable", file: FILE, detail: "not JSON" })).toEqual({
      exitCode: 2,
      line: "unknown: cannot read /run/holdfast/status.json: not JSON",
    });
  });

  it("GIVEN eight held attachments THEN the ok line is summarised to fit", () => {
    const all = Array.from({ length: 8 }, (_, i) =>
      attachment({ interface: `pn${i}`, cidr: `198.18.0.${10 + i}/22` }),
    );
    expect(
      evaluateCheck(
        all.map((a) => a.interface),
        running(all),
      ),
    ).toEqual({
      exitCode: 0,
      line: "ok: all 8 attachments held",
    });
  });

  it("GIVEN any statuses and errors THEN the output is one line of at most 80 characters", () => {
    const state = fc.constantFrom("waiting-link", "discovering", "held", "failed") as fc.Arbitrary<
      AttachmentStatus["state"]
    >;
    const status = fc.record({
      interface: fc.stringMatching(/^[a-z0-9.]{1,15}$/),
      state,
      lastError: fc.option(fc.string({ maxLength: 300 })),
    });
    fc.assert(
      fc.property(fc.array(status, { minLength: 1, maxLength: 8 }), (list) => {
        const attachments = list.map((s) => attachment(s));
        const { line } = evaluateCheck(
          attachments.map((a) => a.interface),
          running(attachments),
        );
        expect(line.length).toBeLessThanOrEqual(MAX_CHECK_LINE);
        expect(line).not.toMatch(/\n/);
      }),
    );
  });

  it("GIVEN two problems THEN both, comma-separated; GIVEN two held THEN both addresses", () => {
    const reading = running([
      attachment({ state: "discovering", cidr: null }),
      attachment({ interface: "pn1", state: "failed", cidr: null, lastError: "boom" }),
    ]);
    expect(evaluateCheck(["pn0", "pn1"], reading).line).toBe("problem: pn0 discovering, pn1 failed (boom)");
    const held = running([attachment(), attachment({ interface: "pn1", cidr: "198.18.0.11/22" })]);
    expect(evaluateCheck(["pn0", "pn1"], held)).toEqual({
      exitCode: 0,
      line: "ok: pn0 held 198.18.0.10/22, pn1 held 198.18.0.11/22",
    });
  });

  it("GIVEN an ok line of exactly 80 characters THEN kept; of 81 THEN summarised", () => {
    // "ok: " + two of "<15-character name> held <16-character cidr>" (37) joined by ", " = 80
    const names = ["pn-aaaaaaaaaaa0", "pn-aaaaaaaaaaa1"];
    const at80 = names.map((n) => attachment({ interface: n, cidr: "198.18.100.10/22" }));
    const line80 = evaluateCheck(names, running(at80)).line;
    expect(line80).toBe("ok: pn-aaaaaaaaaaa0 held 198.18.100.10/22, pn-aaaaaaaaaaa1 held 198.18.100.10/22");
    expect(line80.length).toBe(80);
    const at81 = names.map((n, i) =>
      attachment({ interface: n, cidr: i === 0 ? "198.18.100.100/22" : "198.18.100.10/22" }),
    );
    expect(evaluateCheck(names, running(at81)).line).toBe("ok: all 2 attachments held");
  });

  it("GIVEN an agent not running without a reason THEN it says stale", () => {
    const reading = {
      ...running([attachment()]),
      liveness: { running: false, reason: null, ageMs: 0 },
    } as StatusReading;
    expect(evaluateCheck(["pn0"], reading).line).toBe("problem: agent not running (stale)");
  });
});

describe("fitLine", () => {
  it("GIVEN runs of whitespace and newlines THEN one space each, trimmed", () => {
    expect(fitLine("  problem:\n  pn0\tfailed  ")).toBe("problem: pn0 failed");
  });

  it("GIVEN 80 characters THEN unchanged; 81 THEN 77 and an ellipsis", () => {
    expect(fitLine("x".repeat(80))).toBe("x".repeat(80));
    expect(fitLine("x".repeat(81))).toBe(`${"x".repeat(77)}...`);
  });
});

// check asks the kernel too (kernel-view.ts): the status file says what the agent did, the
// map below says what each link carries.
describe("evaluateCheck against what the kernel has", () => {
  const kernel = (entries: Record<string, string[]>) => new Map(Object.entries(entries));

  it("GIVEN the held address on the link THEN ok; GIVEN it missing THEN exit 1, not on the link", () => {
    const reading = running([attachment()]);
    expect(evaluateCheck(["pn0"], reading, kernel({ pn0: ["198.18.0.10/22"] }))).toEqual({
      exitCode: 0,
      line: "ok: pn0 held 198.18.0.10/22",
    });
    expect(evaluateCheck(["pn0"], reading, kernel({ pn0: ["198.18.0.11/22"] }))).toEqual({
      exitCode: 1,
      line: "problem: pn0 198.18.0.10/22 not on the link",
    });
    expect(evaluateCheck(["pn0"], reading, kernel({})), "the link has no address at all").toEqual({
      exitCode: 1,
      line: "problem: pn0 198.18.0.10/22 not on the link",
    });
  });

  it("GIVEN an attachment not held THEN only its state: the kernel is asked about held ones only", () => {
    const reading = running([
      attachment({ state: "discovering", cidr: "198.18.0.10/22" }),
      attachment({ interface: "pn1", cidr: "198.18.4.10/22" }),
    ]);
    expect(evaluateCheck(["pn0", "pn1"], reading, kernel({ pn1: ["198.18.4.10/22"] }))).toEqual({
      exitCode: 1,
      line: "problem: pn0 discovering",
    });
  });

  it("GIVEN a configured attachment the agent does not report THEN that problem alone", () => {
    const reading = running([attachment()]);
    expect(evaluateCheck(["pn0", "pn2"], reading, kernel({ pn0: ["198.18.0.10/22"] }))).toEqual({
      exitCode: 1,
      line: "problem: pn2 not reported by the agent",
    });
  });

  it("GIVEN a reassignment held against the server THEN exit 1 with both addresses", () => {
    const reading = running([
      attachment({
        reassignment: {
          cidr: "198.18.2.10/22",
          server: "169.254.169.254",
          since: "2026-06-04T10:04:00.000Z",
        },
      }),
    ]);
    expect(evaluateCheck(["pn0"], reading, kernel({ pn0: ["198.18.0.10/22"] }))).toEqual({
      exitCode: 1,
      line: "problem: pn0 holds 198.18.0.10/22, server gives 198.18.2.10/22",
    });
  });
});
