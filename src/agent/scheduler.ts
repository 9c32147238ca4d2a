/**
 * One scheduler per agent (dhcpcd's eloop): every timer is keyed by attachment and purpose,
 * so an attachment's timers can be cancelled together and none is left running at stop.
 */
export class Scheduler {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private stopped = false;

  /** (Re)arms the timer `key`; a pending timer with the same key is replaced. */
  set(key: string, delayMs: number, fn: () => void): void {
    if (this.stopped) return;
    this.cancel(key);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      fn();
    }, delayMs);
    this.timers.set(key, timer);
  }

  has(key: string): boolean {
    return this.timers.has(key);
  }

  cancel(key: string): void {
    const timer = this.timers.get(key);
    if (timer) clearTimeout(timer);
    this.timers.delete(key);
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
