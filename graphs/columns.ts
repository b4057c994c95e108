import type { Point } from "./series.js";

/** One time bucket of a line: what a hover title and a CSV row say of it. */
export interface Column {
  /** Bucket index on [from, to]; lines of one chart share the buckets. */
  index: number;
  /** The time of its newest point. */
  t: number;
  /** Mean, lowest and highest value of its points (a rollup brings its own min and max). */
  value: number;
  lo: number;
  hi: number;
}

/** The points of [from, to] in `count` equal buckets, empty ones left out. Pure. */
export function columns(points: readonly Point[], from: number, to: number, count: number): Column[] {
  const width = Math.max(1, (to - from) / count);
  const out: Column[] = [];
  let current: (Column & { sum: number; n: number }) | undefined;
  for (const p of points) {
    if (p.t < from || p.t > to) continue;
    const index = Math.min(count - 1, Math.floor((p.t - from) / width));
    if (!current || current.index !== index) {
      if (current) out.push(finish(current));
      current = { index, t: p.t, value: 0, lo: p.lo, hi: p.hi, sum: 0, n: 0 };
    }
    current.t = p.t;
    current.sum += p.value;
    current.n++;
    current.lo = Math.min(current.lo, p.lo);
    current.hi = Math.max(current.hi, p.hi);
  }
  if (current) out.push(finish(current));
  return out;
}

function finish({ index, t, lo, hi, sum, n }: Column & { sum: number; n: number }): Column {
  return { index, t, value: sum / n, lo, hi };
}
