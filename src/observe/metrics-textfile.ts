import { writeFileAtomic } from "../util/atomic-write.js";
import { errorGate } from "./error-gate.js";
import type { HoldfastMetrics } from "./metrics.js";
import { throttle, type Throttled } from "./throttle.js";

// node_exporter reads the textfile directory on each scrape (15 s typical); rewriting
// more than once a second would only burn fsyncs during an event storm.
export const TEXTFILE_MIN_INTERVAL_MS = 1000;

export interface TextfileWriter {
  /** schedule a rewrite (throttled; the last change always lands) */
  readonly changed: Throttled;
  /** write now and wait for it; used on start and on stop */
  writeNow(): Promise<void>;
}

/**
 * Keeps a node_exporter textfile in step with the registry. Written atomically, so the
 * collector never reads half a file (node_exporter textfile collector docs).
 */
export function createTextfileWriter(
  metrics: HoldfastMetrics,
  path: string,
  onError: (error: unknown) => void,
): TextfileWriter {
  // Writes are chained so an older rendering can never land after a newer one.
  let chain: Promise<void> = Promise.resolve();
  const errors = errorGate(onError);
  const writeNow = (): Promise<void> => {
    chain = chain.then(async () => {
      try {
        writeFileAtomic(path, await metrics.render());
        errors.succeeded();
      } catch (error) {
        errors.failed(error);
      }
    });
    return chain;
  };
  const changed = throttle(() => void writeNow(), TEXTFILE_MIN_INTERVAL_MS);
  return { changed, writeNow };
}
