import { afterAll, beforeAll } from "vitest";
import { createTopology, type Topology, type TopologyOptions } from "../../src/harness/topology.js";

/**
 * A namespace-name prefix unique to this test file and process: `hf<tag><pid>`, so files
 * running in parallel never collide and leftovers name their origin.
 */
export function uniquePrefix(tag: string): string {
  return `hf${tag}${process.pid}`;
}

/** Builds a topology, runs fn, and always destroys the topology afterwards. */
export async function withTopology<T>(
  options: TopologyOptions,
  fn: (topo: Topology) => Promise<T>,
): Promise<T> {
  const topo = await createTopology(options);
  try {
    return await fn(topo);
  } finally {
    await topo.destroy();
  }
}

/**
 * vitest hooks: one topology for the whole file, destroyed in afterAll even when tests fail.
 * Read `.current` inside tests (it is set once beforeAll ran).
 */
export function useTopology(options: TopologyOptions): { readonly current: Topology } {
  let topo: Topology | undefined;
  beforeAll(async () => {
    topo = await createTopology(options);
  });
  afterAll(async () => {
    await topo?.destroy();
  });
  return {
    get current(): Topology {
      if (topo === undefined) throw new Error("topology not built (beforeAll failed?)");
      return topo;
    },
  };
}
