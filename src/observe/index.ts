import type { AgentObserver } from "../agent/events.js";
import type { Config } from "../config/schema.js";
import type { MetricsServer } from "./metrics-http.js";
import type { TextfileWriter } from "./metrics-textfile.js";

/** How often a metrics port that could not be bound is tried again. */
const METRICS_RETRY_MS = 30_000;
import { createStatusFileObserver } from "./status-file.js";

export interface ObserveOptions {
  /** a write of status.json or the textfile failed; the agent logs it and keeps holding */
  readonly onError?: (what: string, error: unknown) => void;
  /** @default process.pid */
  readonly pid?: number;
  /** @default VERSION */
  readonly version?: string;
}

/**
 * The observers the agent reports to: status.json always, Prometheus metrics when
 * `metrics` is configured (HTTP and/or textfile). A metrics port that cannot be bound is
 * reported through onError and retried every 30 s; the agent holds addresses regardless.
 */
export async function createObservers(
  config: Config,
  options: ObserveOptions = {},
): Promise<AgentObserver[]> {
  const onError = options.onError ?? (() => undefined);
  const reconcileIntervalMs = Math.max(...config.attachments.map((a) => a.reconcileInterval));
  const observers: AgentObserver[] = [
    createStatusFileObserver({
      runDir: config.runDir,
      reconcileIntervalMs,
      pid: options.pid,
      version: options.version,
      onError: (error) => onError("status file", error),
    }),
  ];
  const { listen, textfile } = config.metrics ?? {};
  if (listen === undefined && textfile === undefined) return observers;

  // prom-client is loaded only when metrics are configured: it costs the agent megabytes of RSS.
  const [{ createMetrics }, { startMetricsServer }, { createTextfileWriter }] = await Promise.all([
    import("./metrics.js"),
    import("./metrics-http.js"),
    import("./metrics-textfile.js"),
  ]);
  let textfileWriter: TextfileWriter | undefined;
  const metrics = createMetrics({
    interfaces: config.attachments.map((a) => a.interface),
    version: options.version,
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
  const serve = async (): Promise<void> => {
    if (listen === undefined || stopped) return;
    try {
      const started = await startMetricsServer(metrics, listen);
      if (stopped) await started.close();
      else server = started;
    } catch (error) {
      onError("metrics", error);
      retry = setTimeout(() => void serve(), METRICS_RETRY_MS);
      retry.unref();
    }
  };
  await serve();
  await textfileWriter?.writeNow();

  observers.push(metrics.observer, {
    stopping: async () => {
      stopped = true;
      clearTimeout(retry);
      textfileWriter?.changed.cancel();
      await textfileWriter?.writeNow();
      await server?.close();
    },
  });
  return observers;
}
