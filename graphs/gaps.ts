import type { Point } from "./series.js";

/** A gap longer than this many typical intervals breaks the line: the server was not reporting. */
export const GAP_FACTOR = 3;

/**
 * The median time between consecutive points: the series' schedule, robust to the odd late run.
 * Raw samples set it when there are two in a row: months of hourly rollups must not hide, in the
 * 24-hour chart, a two-hour hole in samples taken every 15 minutes (rollups bring their own span).
 */
export function typicalInterval(points: readonly Point[]): number {
  const raw: number[] = [];
  const all: number[] = [];
  for (let i = 1; i < points.length; i++) {
    const delta = points[i]!.t - points[i - 1]!.t;
    all.push(delta);
    if (points[i]!.span === 0 && points[i - 1]!.span === 0) raw.push(delta);
  }
  const deltas = raw.length > 0 ? raw : all;
  if (deltas.length === 0) return 0;
  deltas.sort((a, b) => a - b);
  return deltas[Math.floor(deltas.length / 2)]!;
}

/**
 * Splits time-ordered points into runs with no gap, so that a chart draws nothing across the time
 * a server was silent. A rollup point may legitimately sit one period (an hour) from its neighbour.
 */
export function splitAtGaps(points: readonly Point[], interval = typicalInterval(points)): Point[][] {
  const runs: Point[][] = [];
  let run: Point[] = [];
  for (const point of points) {
    const previous = run.at(-1);
    if (previous && point.t - previous.t > GAP_FACTOR * Math.max(interval, previous.span, point.span)) {
      runs.push(run);
      run = [];
    }
    run.push(point);
  }
  if (run.length > 0) runs.push(run);
  return runs;
}
