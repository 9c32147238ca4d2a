import type { AgentObserver } from "../agent/events.js";

type EventKey = Exclude<keyof AgentObserver, "stopping">;

const EVENT_KEYS: readonly EventKey[] = [
  "statusChanged",
  "reconciled",
  "reasserted",
  "discoveryAttempt",
  "linkRecreated",
  "confirmAttempt",
  "confirmInterval",
  "reassigned",
  "announced",
];

export interface DeferredObservers {
  /** give this to the agent at its start */
  readonly observer: AgentObserver;
  /** the real observers are ready: what was said until now is replayed to them, in order */
  attach(observers: readonly AgentObserver[]): void;
  /** they could not be made: what was kept is dropped, and later events go nowhere */
  abandon(): void;
}

/**
 * Observers that arrive after the agent has started. The agent holds first and makes its
 * observers (prom-client, the metrics port, status.json) after: their set-up is most of what
 * stood between start and the first hold (bench/agent-startup.ts). Until they arrive, events
 * are kept; then each is delivered to each observer in the order it happened, so status.json
 * and the metrics end up exactly as if the observers had been there from the start. A
 * failing observer is reported through onError and never stops the others.
 */
export function deferredObservers(
  onError: (key: string, error: unknown) => void = () => undefined,
): DeferredObservers {
  let kept: { key: EventKey; args: unknown[] }[] | undefined = [];
  let targets: readonly AgentObserver[] = [];
  let ready!: () => void;
  const arrived = new Promise<void>((resolve) => (ready = resolve));
  const deliver = (key: EventKey, args: unknown[]): void => {
    for (const target of targets) {
      try {
        (target[key] as ((...a: unknown[]) => unknown) | undefined)?.(...args);
      } catch (error) {
        onError(key, error);
      }
    }
  };
  const observer: AgentObserver = Object.fromEntries(
    EVENT_KEYS.map((key) => [
      key,
      (...args: unknown[]) => {
        if (kept !== undefined) kept.push({ key, args });
        else deliver(key, args);
      },
    ]),
  );
  observer.stopping = async () => {
    await arrived;
    for (const target of targets) {
      try {
        await target.stopping?.();
      } catch (error) {
        onError("stopping", error);
      }
    }
  };
  return {
    observer,
    attach(observers) {
      if (kept === undefined) return;
      targets = observers;
      const replay = kept;
      kept = undefined;
      for (const { key, args } of replay) deliver(key, args);
      ready();
    },
    abandon() {
      kept = undefined;
      ready();
    },
  };
}
