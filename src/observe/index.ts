import type { AgentObserver } from "../agent/events.js";
import type { Config } from "../config/schema.js";
import type { TextfileWriter } from "./metrics-textfile.js";
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
 * `metrics` is configured (HTTP and/or textfile). Rejects when the metrics port cannot
 * be bound, so a misconfigured agent fails at start instead of running unwatched.
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
  const server = listen === undefined ? undefined : await startMetricsServer(metrics, listen);
  await textfileWriter?.writeNow();

  observers.push(metrics.observer, {
    stopping: async () => {
      textfileWriter?.changed.cancel();
      await textfileWriter?.writeNow();
      await server?.close();
    },
  });
  return observers;
}
