import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { throttle } from "../../src/observe/throttle.js";

describe("throttle", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("GIVEN a burst THEN one run at once and one trailing run with the window", () => {
    const fn = vi.fn();
    const t = throttle(fn, 1000);
    for (let i = 0; i < 50; i++) t();
    expect(fn).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(999);
    expect(fn).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(2);
    vi.advanceTimersByTime(5000);
    expect(fn).toHaveBeenCalledTimes(2);
  });

  it("GIVEN a pending run THEN flush runs it now, cancel drops it", () => {
    const fn = vi.fn();
    const t = throttle(fn, 1000);
    t();
    t();
    t.flush();
    expect(fn).toHaveBeenCalledTimes(2);
    t();
    t.cancel();
    vi.advanceTimersByTime(5000);
    expect(fn).toHaveBeenCalledTimes(2);
  });
});
