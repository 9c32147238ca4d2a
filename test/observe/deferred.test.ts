import { describe, expect, it } from "vitest";
import type { AgentObserver, AttachmentStatus } from "../../src/agent/events.js";
import { deferredObservers } from "../../src/observe/deferred.js";

const status = (state: AttachmentStatus["state"]) => ({ interface: "pn0", state }) as AttachmentStatus;

function recorder(calls: string[], name: string): AgentObserver {
  return {
    statusChanged: (s) => calls.push(`${name} statusChanged ${s.state}`),
    reconciled: (s) => calls.push(`${name} reconciled ${s.state}`),
    reasserted: (iface, reason, ms) => calls.push(`${name} reasserted ${iface} ${reason} ${ms}`),
    stopping: () => {
      calls.push(`${name} stopping`);
    },
  };
}

describe("observers that arrive after the agent's first hold", () => {
  it("hear every event said before they arrived, in order, then the live ones", () => {
    const calls: string[] = [];
    const deferred = deferredObservers();
    deferred.observer.statusChanged!(status("held"), []);
    deferred.observer.reasserted!("pn0", "startup", 1.5);
    deferred.observer.reconciled!(status("held"), []);
    expect(calls, "nothing delivered before attach").toEqual([]);
    deferred.attach([recorder(calls, "a"), recorder(calls, "b")]);
    deferred.observer.statusChanged!(status("failed"), []);
    expect(calls).toEqual([
      "a statusChanged held",
      "b statusChanged held",
      "a reasserted pn0 startup 1.5",
      "b reasserted pn0 startup 1.5",
      "a reconciled held",
      "b reconciled held",
      "a statusChanged failed",
      "b statusChanged failed",
    ]);
  });

  it("one failing observer is reported and the others still hear the event", () => {
    const calls: string[] = [];
    const errors: string[] = [];
    const deferred = deferredObservers((key, error) => errors.push(`${key}: ${(error as Error).message}`));
    deferred.observer.reconciled!(status("held"), []);
    const broken: AgentObserver = {
      reconciled: () => {
        throw new Error("disk full");
      },
      stopping: () => {
        throw new Error("flush failed");
      },
    };
    deferred.attach([broken, recorder(calls, "ok")]);
    expect(calls).toEqual(["ok reconciled held"]);
    expect(errors).toEqual(["reconciled: disk full"]);
    return deferred.observer.stopping!()!.then(() => {
      expect(calls).toContain("ok stopping");
      expect(errors).toContain("stopping: flush failed");
    });
  });

  it("a stop before they arrive waits for them, then flushes them", async () => {
    const calls: string[] = [];
    const deferred = deferredObservers();
    let stopped = false;
    const stopping = Promise.resolve(deferred.observer.stopping!()).then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 10));
    expect(stopped, "stop waits for the observers").toBe(false);
    deferred.attach([recorder(calls, "a")]);
    await stopping;
    expect(calls).toEqual(["a stopping"]);
  });

  it("abandoned, they drop what was kept and a stop does not wait", async () => {
    const deferred = deferredObservers();
    deferred.observer.reconciled!(status("held"), []);
    deferred.abandon();
    await deferred.observer.stopping!();
    deferred.observer.reconciled!(status("held"), []);
  });
});
