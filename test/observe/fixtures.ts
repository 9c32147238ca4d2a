import type { AttachmentStatus } from "../../src/agent/events.js";

/** A held attachment as the agent reports it; override what a test is about. */
export function attachment(overrides: Partial<AttachmentStatus> = {}): AttachmentStatus {
  return {
    interface: "pn0",
    state: "held",
    cidr: "198.18.0.10/22",
    origin: "static",
    heldSince: "2026-06-04T10:00:00.000Z",
    lastReconcileAt: "2026-06-04T10:05:00.000Z",
    reasserts: 0,
    lastError: null,
    lastConfirmedAt: null,
    confirmedBy: null,
    reassignment: null,
    conflict: null,
    ...overrides,
  };
}

/** A pid that existed a moment ago and is gone now. */
export async function deadPid(): Promise<number> {
  const { spawn } = await import("node:child_process");
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((resolve) => child.once("exit", resolve));
  if (child.pid === undefined) throw new Error("spawn gave no pid");
  return child.pid;
}
