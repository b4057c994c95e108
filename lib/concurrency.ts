/** A gate letting at most `max` tasks run at once; the others wait their turn in call order. */
export function concurrencyLimit(max: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    // A finishing task hands its slot straight to the next waiter, so a newcomer cannot slip in between.
    if (active < max) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}

/**
 * Runs `task` over every item with at most `limit` running at once; results keep the items' order.
 * Tasks are expected to settle on their own (each carries its own timeout): one slow task holds
 * only its own slot, never the others.
 */
export function mapWithLimit<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const gate = concurrencyLimit(Math.max(1, limit));
  return Promise.all(items.map((item, index) => gate(() => task(item, index))));
}
