import type { PointColumns } from "./series.js";

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
export function columns(points: PointColumns, from: number, to: number, count: number): Column[] {
  const { t, value, lo, hi } = points;
  const width = Math.max(1, (to - from) / count);
  const out: Column[] = [];
  let current: (Column & { sum: number; n: number }) | undefined;
  for (let i = 0; i < t.length; i++) {
    const at = t[i]!;
    if (at < from || at > to) continue;
    const index = Math.min(count - 1, Math.floor((at - from) / width));
    if (!current || current.index !== index) {
      if (current) out.push(finish(current));
      current = { index, t: at, value: 0, lo: lo[i]!, hi: hi[i]!, sum: 0, n: 0 };
    }
    current.t = at;
    current.sum += value[i]!;
    current.n++;
    current.lo = Math.min(current.lo, lo[i]!);
    current.hi = Math.max(current.hi, hi[i]!);
  }
  if (current) out.push(finish(current));
  return out;
}

function finish({ index, t, lo, hi, sum, n }: Column & { sum: number; n: number }): Column {
  return { index, t, value: sum / n, lo, hi };
}
