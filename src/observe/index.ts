import type { AgentObserver } from "../agent/events.js";
import type { Config } from "../config/schema.js";
import type { MetricsServer } from "./metrics-http.js";
import type { TextfileWriter } from "./metrics-textfile.js";
import { createStatusFileObserver } from "./status-file.js";
import { monotonicMs } from "../util/clock.js";

/** How often a metrics port that could not be bound is tried again, besides on every new hold. */
const METRICS_RETRY_MS = 30_000;
/** A hold (or re-hold) tries a waiting metrics port again, at most this often. */
const METRICS_RETRY_ON_HOLD_MS = 200;

export interface StartupProblem {
  /** the config field it is about: `stateDir`, `runDir` */
  readonly field: string;
  readonly message: string;
}

export interface ObserveOptions {
  /** a write of status.json or the textfile failed; the agent logs it and keeps holding */
  readonly onError?: (what: string, error: unknown) => void;
  /** news that is not an error (the metrics port waiting for its address); the agent logs it */
  readonly onInfo?: (message: string) => void;
  /** broken directories found at start: shown in status.json and metrics */
  readonly problems?: readonly StartupProblem[];
  /** @default process.pid */
  readonly pid?: number;
  /** @default VERSION */
  readonly version?: string;
}

/**
 * The observers the agent reports to: status.json always, Prometheus metrics when
 * `metrics` is configured (HTTP and/or textfile). A metrics port that cannot be bound is
 * reported and tried again whenever an attachment becomes held (the usual reason is a
 * `listen` on the PN address, which exists only once held) and every 30 s; the agent
 * holds addresses regardless.
 */
export async function createObservers(
  config: Config,
  options: ObserveOptions = {},
): Promise<AgentObserver[]> {
  const onError = options.onError ?? (() => undefined);
  const onInfo = options.onInfo ?? (() => undefined);
  const reconcileIntervalMs = Math.max(...config.attachments.map((a) => a.reconcileInterval));
  const observers: AgentObserver[] = [
    createStatusFileObserver({
      runDir: config.runDir,
      reconcileIntervalMs,
      pid: options.pid,
      version: options.version,
      problems: options.problems?.map((p) => p.message),
      onError: (error) => onError("status file", error),
    }),
  ];
  const { listen, textfile } = config.metrics ?? {};
  if (listen === undefined && textfile === undefined) return observers;

  // prom-client is loaded only when metrics are configured, and node:http only for a port:
  // each costs the agent megabytes of RSS.
  const [{ createMetrics }, http, { createTextfileWriter }] = await Promise.all([
    import("./metrics.js"),
    listen === undefined ? undefined : import("./metrics-http.js"),
    import("./metrics-textfile.js"),
  ]);
  let textfileWriter: TextfileWriter | undefined;
  const metrics = createMetrics({
    interfaces: config.attachments.map((a) => a.interface),
    version: options.version,
    problems: options.problems,
    onChange: () => textfileWriter?.changed(),
  });
  if (textfile !== undefined) {
    textfileWriter = createTextfileWriter(metrics, textfile, (error) => onError("metrics textfile", error));
  }
  // Holding the address matters more than being watched: a port that cannot be bound is
  // reported and retried, never a reason for the agent to stop (and crash-loop) unheld.
  let server: MetricsServer | undefined;
  let retry: NodeJS.Timeout | undefined;
  let stopped = false;
  let binding = false;
  // a hold seen while a bind was in flight: that bind may have raced the address, so try once more
  let heldWhileBinding = false;
  let lastTry = Number.NEGATIVE_INFINITY;
  let lastWhy: string | undefined;
  const serve = async (): Promise<void> => {
    if (listen === undefined || http === undefined || stopped || server !== undefined || binding) return;
    binding = true;
    lastTry = monotonicMs();
    clearTimeout(retry);
    try {
      const started = await http.startMetricsServer(metrics, listen);
      if (stopped) await started.close();
      else {
        server = started;
        if (lastWhy !== undefined) onInfo(`metrics: now serving on ${started.address}`);
      }
    } catch (error) {
      const code = ((error as { cause?: NodeJS.ErrnoException }).cause?.code ?? "") as string;
      const why =
        code === "EADDRNOTAVAIL"
          ? `metrics.listen ${listen}: no such address on this host yet; waiting for it (tried again when an address is held, and every ${METRICS_RETRY_MS / 1000} s)`
          : undefined;
      const said = why ?? (error instanceof Error ? error.message : String(error));
      // the same reason once, not every retry
      if (said !== lastWhy) {
        if (why !== undefined) onInfo(why);
        else onError("metrics", error);
      }
      lastWhy = said;
      retryIn(METRICS_RETRY_MS);
    } finally {
      binding = false;
    }
    if (heldWhileBinding && server === undefined) {
      heldWhileBinding = false;
      retryIn(METRICS_RETRY_ON_HOLD_MS);
    }
  };
  const retryIn = (ms: number): void => {
    clearTimeout(retry);
    retry = setTimeout(() => void serve(), ms);
    retry.unref();
  };
  await serve();
  await textfileWriter?.writeNow();

  // A hold right after a failed try is not dropped but deferred: the address may have
  // arrived just after that try, and the next reconcile can be many seconds away.
  const onHeld = (state: string): void => {
    if (server !== undefined || stopped || state !== "held") return;
    if (binding) {
      heldWhileBinding = true;
      return;
    }
    const since = monotonicMs() - lastTry;
    if (since >= METRICS_RETRY_ON_HOLD_MS) void serve();
    else retryIn(METRICS_RETRY_ON_HOLD_MS - since);
  };
  observers.push(
    metrics.observer,
    {
      statusChanged: (status) => onHeld(status.state),
      reconciled: (status) => onHeld(status.state),
    },
    {
      stopping: async () => {
        stopped = true;
        clearTimeout(retry);
        textfileWriter?.changed.cancel();
        await textfileWriter?.writeNow();
        await server?.close();
      },
    },
  );
  return observers;
}
