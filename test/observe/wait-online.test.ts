import { describe, expect, it } from "vitest";
import { summarizeHold, waitOnline } from "../../src/observe/wait-online.js";
import type { StatusReading } from "../../src/observe/status-read.js";
import { attachment } from "./fixtures.js";

function reading(states: Record<string, string>, running = true): StatusReading {
  const now = new Date().toISOString();
  return {
    kind: "ok",
    file: "/run/holdfast/status.json",
    liveness: { running, reason: running ? null : "pid 7 is gone", ageMs: 0 },
    status: {
      version: 1,
      agent: { pid: 7, version: "t", startedAt: now, updatedAt: now, reconcileIntervalMs: 30_000 },
      attachments: Object.entries(states).map(([name, state]) =>
        attachment({
          interface: name,
          state: state as "held",
          cidr: state === "held" ? "198.18.0.10/22" : null,
          origin: state === "held" ? "cache" : null,
          heldSince: state === "held" ? now : null,
          lastReconcileAt: now,
        }),
      ),
    },
  };
}

describe("holdfast wait-online", () => {
  it("is online only when a running agent holds every configured attachment", () => {
    expect(summarizeHold(reading({ pn0: "held", pn1: "held" }), ["pn0", "pn1"])).toEqual({
      held: true,
      summary: "pn0 198.18.0.10/22, pn1 198.18.0.10/22",
    });
    expect(summarizeHold(reading({ pn0: "held", pn1: "discovering" }), ["pn0", "pn1"]).held).toBe(false);
    expect(summarizeHold(reading({ pn0: "held" }), ["pn0", "pn1"]).summary).toBe(
      "pn0 198.18.0.10/22, pn1 unknown",
    );
    expect(summarizeHold(reading({ pn0: "held" }, false), ["pn0"]).held).toBe(false);
    expect(summarizeHold({ kind: "missing", file: "/x" }, ["pn0"]).summary).toBe("no status file yet");
  });

  it("returns as soon as the hold appears, and gives up at the timeout", async () => {
    let reads = 0;
    const held = await waitOnline({
      runDir: "/run/holdfast",
      interfaces: ["pn0"],
      timeoutMs: 5000,
      read: () => (++reads < 3 ? reading({ pn0: "discovering" }) : reading({ pn0: "held" })),
    });
    expect(held.held).toBe(true);
    expect(reads).toBe(3);
    const never = await waitOnline({
      runDir: "/run/holdfast",
      interfaces: ["pn0"],
      timeoutMs: 250,
      read: () => reading({ pn0: "discovering" }),
    });
    expect(never).toMatchObject({ held: false, summary: "pn0 discovering" });
    expect(never.waitedMs).toBeGreaterThanOrEqual(250);
  });
});
