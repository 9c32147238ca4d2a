/**
 * Runs `work` over items with at most `limit` at once and returns the results in item
 * order. After a failure no new item starts, but the ones under way are awaited before the
 * first failure is rethrown: their teardown (namespaces, ssh sessions) must finish first.
 */
export async function mapPool<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const index = next++;
      try {
        results[index] = await work(items[index]!, index);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const width = Math.max(1, Math.min(limit, items.length));
  const settled = await Promise.allSettled(Array.from({ length: width }, worker));
  const rejected = settled.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (rejected !== undefined) throw rejected.reason;
  return results;
}
