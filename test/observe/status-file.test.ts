import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createStatusFileObserver, statusFilePath } from "../../src/observe/status-file.js";
import { readStatus, staleAfterMs } from "../../src/observe/status-read.js";
import { attachment, deadPid } from "./fixtures.js";
import { scratchDir } from "../helpers/scratch.js";

describe("status file", () => {
  let runDir: string;
  beforeEach(() => {
    runDir = scratchDir("hf-status-");
  });
  afterEach(() => rmSync(runDir, { recursive: true, force: true }));

  it("GIVEN a state change THEN status.json holds the agent and every attachment", () => {
    const clock = { t: Date.parse("2026-06-04T10:00:00Z") };
    const observer = createStatusFileObserver({
      runDir,
      reconcileIntervalMs: 1000,
      pid: 4242,
      version: "9.9.9",
      now: () => new Date(clock.t),
    });
    const pn0 = attachment({ state: "waiting-link", cidr: null, origin: null, heldSince: null });
    clock.t += 1500;
    observer.statusChanged?.(pn0, [pn0, attachment({ interface: "pn1" })]);

    const document = JSON.parse(readFileSync(statusFilePath(runDir), "utf8")) as unknown;
    expect(document).toEqual({
      version: 1,
      agent: {
        pid: 4242,
        version: "9.9.9",
        startedAt: "2026-06-04T10:00:00.000Z",
        updatedAt: "2026-06-04T10:00:01.500Z",
        reconcileIntervalMs: 1000,
      },
      attachments: [pn0, attachment({ interface: "pn1" })],
    });
  });

  it("GIVEN reconcile passes with no change THEN updatedAt still moves (the heartbeat)", () => {
    const clock = { t: Date.parse("2026-06-04T10:00:00Z") };
    const observer = createStatusFileObserver({
      runDir,
      reconcileIntervalMs: 1000,
      now: () => new Date(clock.t),
    });
    const pn0 = attachment();
    observer.statusChanged?.(pn0, [pn0]);
    clock.t += 30_000;
    observer.reconciled?.(pn0, [pn0]);
    const reading = readStatus(runDir, { now: () => clock.t });
    expect(reading.kind).toBe("ok");
    if (reading.kind !== "ok") return;
    expect(reading.status.agent.updatedAt).toBe("2026-06-04T10:00:30.000Z");
    expect(reading.liveness).toEqual({ running: true, reason: null, ageMs: 0 });
  });

  it("GIVEN the runDir cannot be written THEN the error goes to onError once and nothing throws", () => {
    const errors: unknown[] = [];
    const blocker = join(runDir, "file");
    writeFileSync(blocker, "");
    const observer = createStatusFileObserver({
      runDir: join(blocker, "sub"),
      reconcileIntervalMs: 1000,
      onError: (e) => errors.push(e),
    });
    expect(() => observer.reconciled?.(attachment(), [attachment()])).not.toThrow();
    observer.reconciled?.(attachment(), [attachment()]);
    // the same failure on every reconcile pass is reported once
    expect(errors).toHaveLength(1);
  });
});

describe("readStatus", () => {
  let runDir: string;
  beforeEach(() => {
    runDir = scratchDir("hf-status-");
  });
  afterEach(() => rmSync(runDir, { recursive: true, force: true }));

  const write = (pid: number, updatedAt: string, reconcileIntervalMs = 1000): void => {
    const observer = createStatusFileObserver({
      runDir,
      reconcileIntervalMs,
      pid,
      now: () => new Date(updatedAt),
    });
    observer.reconciled?.(attachment(), [attachment()]);
  };

  it("GIVEN no file THEN missing", () => {
    expect(readStatus(runDir)).toEqual({ kind: "missing", file: statusFilePath(runDir) });
  });

  it("GIVEN a file that is not a status document THEN unreadable, naming the bad field", () => {
    writeFileSync(
      statusFilePath(runDir),
      JSON.stringify({ version: 1, agent: { pid: "x" }, attachments: [] }),
    );
    const reading = readStatus(runDir);
    expect(reading.kind).toBe("unreadable");
    if (reading.kind === "unreadable")
      expect(reading.detail).toMatch(/^not a holdfast status file \(bad agent\.pid/);
    writeFileSync(statusFilePath(runDir), "{ half");
    expect(readStatus(runDir)).toMatchObject({
      kind: "unreadable",
      detail: expect.stringMatching(/^not JSON/),
    });
  });

  it("GIVEN the writer's pid is gone THEN not running, even with a fresh file", async () => {
    const pid = await deadPid();
    const now = Date.parse("2026-06-04T10:00:00Z");
    write(pid, "2026-06-04T10:00:00Z");
    expect(readStatus(runDir, { now: () => now })).toMatchObject({
      kind: "ok",
      liveness: { running: false, reason: `pid ${pid} is gone`, ageMs: 0 },
    });
  });

  it("GIVEN a live pid but updatedAt older than 2 intervals + 5 s THEN stale", () => {
    const updated = Date.parse("2026-06-04T10:00:00Z");
    write(process.pid, "2026-06-04T10:00:00Z", 30_000);
    expect(staleAfterMs(30_000)).toBe(65_000);
    const at = (ms: number) => readStatus(runDir, { now: () => updated + ms });
    expect(at(65_000)).toMatchObject({ liveness: { running: true } });
    expect(at(94_000)).toMatchObject({ liveness: { running: false, reason: "status not updated for 94 s" } });
  });

  it("GIVEN a pid that exists (pid 1; EPERM would count too) THEN alive", () => {
    write(1, new Date().toISOString());
    expect(readStatus(runDir)).toMatchObject({ liveness: { running: true } });
  });
});
