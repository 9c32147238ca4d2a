/**
 * The agent's first lines: until the agent has installed its own SIGTERM handling, a
 * SIGTERM (or SIGINT) ends it at once with exit 0. Nothing is held or spawned yet, and
 * addresses are never removed on stop anyway, so there is nothing to undo; without this,
 * a stop during the first ~100 ms (module loading, config) killed the process with 143.
 *
 * The bundle installs the same handler in its banner (scripts/build.mjs), before any module
 * is evaluated (same key, same code); this module installs it when the CLI runs from
 * source, and removes it.
 */
const KEY = "__holdfastEarlyExit";

type Global = typeof globalThis & { [KEY]?: () => void };

export function installEarlyExit(argv: readonly string[] = process.argv): void {
  const g = globalThis as Global;
  if (argv[2] !== "agent" || g[KEY] !== undefined) return;
  g[KEY] = () => process.exit(0);
  process.on("SIGTERM", g[KEY]);
  process.on("SIGINT", g[KEY]);
}

/** The agent's own handlers are in place: the early exit is no longer needed. */
export function agentHandlesSignals(): void {
  const g = globalThis as Global;
  const early = g[KEY];
  if (early === undefined) return;
  process.off("SIGTERM", early);
  process.off("SIGINT", early);
  g[KEY] = undefined;
}
