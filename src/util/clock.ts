/**
 * Monotonic milliseconds (arbitrary origin), for durations and rate limits. Not
 * performance.now(): in Node 18 and 20 the first read of the `performance` global loads
 * perf_hooks and its timing modules, a few ms of the agent's start-up before its first hold.
 */
export const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;
