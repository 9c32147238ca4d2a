/**
 * Node.js options the agent runs with, wherever it runs (the unit through the launcher, the lab,
 * the tests and the benchmarks), so what is measured is what is deployed.
 *
 * --jitless: the agent's work is a few netlink lines and an `ip` command now and then, which
 * the interpreter does in microseconds; without the optimising compilers V8 keeps about 8 MB
 * less resident (bench/restore-latency.ts measures both), and the unit can then deny
 * writable executable memory. It also turns WebAssembly off, which nothing in the agent uses;
 * --no-expose-wasm says so, or V8 warns about the conflict at every start.
 */
export const AGENT_NODE_OPTIONS: readonly string[] = ["--jitless", "--no-expose-wasm"];
