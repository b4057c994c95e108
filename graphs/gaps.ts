import { sliceColumns, type PointColumns } from "./series.js";

/** A gap longer than this many typical intervals breaks the line: the server was not reporting. */
export const GAP_FACTOR = 3;

/**
 * The median time between consecutive points: the series' schedule, robust to the odd late run.
 * Raw samples set it when there are two in a row: months of hourly rollups must not hide, in the
 * 24-hour chart, a two-hour hole in samples taken every 15 minutes (rollups bring their own span).
 */
export function typicalInterval(points: PointColumns): number {
  return medianInterval(points.t, points.span);
}

/** typicalInterval of points kept in columns: their times, and their spans (none: all raw samples). */
export function medianInterval(t: ArrayLike<number>, span?: ArrayLike<number>): number {
  const count = t.length;
  const raw = new Float64Array(Math.max(0, count - 1));
  const all = new Float64Array(Math.max(0, count - 1));
  let raws = 0;
  for (let i = 1; i < count; i++) {
    const delta = t[i]! - t[i - 1]!;
    all[i - 1] = delta;
    if (!span || (span[i] === 0 && span[i - 1] === 0)) raw[raws++] = delta;
  }
  const deltas = raws > 0 ? raw.subarray(0, raws) : all;
  if (deltas.length === 0) return 0;
  return nthSmallest(deltas, Math.floor(deltas.length / 2));
}

/**
 * The value sorting `values` would put at index k, found in linear time (Wirth's selection, which
 * splits runs of equal values evenly): every series of a run is measured, a week of points each.
 * Reorders `values`.
 */
export function nthSmallest(values: Float64Array, k: number): number {
  let low = 0;
  let high = values.length - 1;
  while (low < high) {
    const pivot = values[k]!;
    let i = low;
    let j = high;
    do {
      while (values[i]! < pivot) i++;
      while (pivot < values[j]!) j--;
      if (i <= j) {
        const swap = values[i]!;
        values[i++] = values[j]!;
        values[j--] = swap;
      }
    } while (i <= j);
    if (j < k) low = i;
    if (k < i) high = j;
  }
  return values[k]!;
}

/**
 * Splits time-ordered points into runs with no gap, so that a chart draws nothing across the time
 * a server was silent. A rollup point may legitimately sit one period (an hour) from its neighbour.
 */
export function splitAtGaps(points: PointColumns, interval = typicalInterval(points)): PointColumns[] {
  const { t, span } = points;
  const runs: PointColumns[] = [];
  let start = 0;
  for (let i = 1; i < t.length; i++) {
    if (t[i]! - t[i - 1]! > GAP_FACTOR * Math.max(interval, span[i - 1]!, span[i]!)) {
      runs.push(sliceColumns(points, start, i));
      start = i;
    }
  }
  if (t.length > 0) runs.push(sliceColumns(points, start, t.length));
  return runs;
}
