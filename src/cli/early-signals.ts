/**
 * The agent's first lines: until the agent has installed its own SIGTERM handling, a
 * SIGTERM (or SIGINT) ends it at once with exit 0. Nothing is held or spawned yet, and
 * addresses are never removed on stop anyway, so there is nothing to undo; without this,
 * a stop during the first ~100 ms (module loading, config) killed the process with 143.
 * Imported first by bin.ts, so it runs before any other module of the bundle.
 */
const early = (): void => process.exit(0);

if (process.argv[2] === "agent") {
  process.on("SIGTERM", early);
  process.on("SIGINT", early);
}

/** The agent's own handlers are in place: the early exit is no longer needed. */
export function agentHandlesSignals(): void {
  process.off("SIGTERM", early);
  process.off("SIGINT", early);
}
