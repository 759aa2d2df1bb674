/**
 * Run `work` for every item with at most `limit` at once, in order of the items. Items not yet
 * started when `stop` is aborted are handed to `skip` instead.
 */
export async function runPool<T>(
  items: T[],
  limit: number,
  work: (item: T, index: number) => Promise<void>,
  opts: { stop?: AbortSignal; skip?: (item: T, index: number) => void } = {}
): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      if (opts.stop?.aborted) opts.skip?.(items[i], i)
      else await work(items[i], i)
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker))
}
