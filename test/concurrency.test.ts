import { concurrencyLimit, mapWithLimit } from "../lib/concurrency.js";

describe("concurrencyLimit", () => {
  test("at most N tasks run at once, all of them finish", async () => {
    const gate = concurrencyLimit(2);
    let running = 0;
    let most = 0;
    const task = async (n: number) => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running--;
      return n;
    };
    expect(await Promise.all([1, 2, 3, 4, 5, 6, 7].map((n) => gate(() => task(n))))).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(most).toBe(2);
  });
});

describe("mapWithLimit", () => {
  test("never runs more than the limit at once and keeps the order", async () => {
    let running = 0;
    let most = 0;
    const results = await mapWithLimit([5, 1, 4, 2, 3, 0, 6], 3, async (n) => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, n * 3));
      running--;
      return n * 10;
    });
    expect(results).toEqual([50, 10, 40, 20, 30, 0, 60]);
    expect(most).toBe(3);
    expect(await mapWithLimit([], 3, async () => 1)).toEqual([]);
  });
});
