/**
 * Runs `fn` at most once per `intervalMs`: the first call runs at once, calls inside the
 * window collapse into one trailing run, so the last change is never lost. `flush()` runs
 * a pending call now (on agent stop). The timer is unref'd: it never keeps the process up.
 */
export interface Throttled {
  (): void;
  flush(): void;
  cancel(): void;
}

export function throttle(fn: () => void, intervalMs: number, now: () => number = Date.now): Throttled {
  let last = Number.NEGATIVE_INFINITY;
  let timer: NodeJS.Timeout | undefined;

  const runNow = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    last = now();
    fn();
  };

  const throttled = (): void => {
    if (timer !== undefined) return;
    const wait = last + intervalMs - now();
    if (wait <= 0) {
      runNow();
      return;
    }
    timer = setTimeout(runNow, wait);
    timer.unref();
  };
  throttled.flush = (): void => {
    if (timer !== undefined) runNow();
  };
  throttled.cancel = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
  return throttled;
}
