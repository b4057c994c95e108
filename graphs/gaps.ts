import type { Point } from "./series.js";

/** A gap longer than this many typical intervals breaks the line: the server was not reporting. */
export const GAP_FACTOR = 3;

/**
 * The median time between consecutive points: the series' schedule, robust to the odd late run.
 * Raw samples set it when there are two in a row: months of hourly rollups must not hide, in the
 * 24-hour chart, a two-hour hole in samples taken every 15 minutes (rollups bring their own span).
 */
export function typicalInterval(points: readonly Point[]): number {
  return medianInterval(
    points.length,
    (i) => points[i]!.t,
    (i) => points[i]!.span,
  );
}

/** typicalInterval of the `count` points whose times and spans `t` and `span` give (a series kept in columns). */
export function medianInterval(count: number, t: (i: number) => number, span: (i: number) => number): number {
  const raw: number[] = [];
  const all: number[] = [];
  for (let i = 1; i < count; i++) {
    const delta = t(i) - t(i - 1);
    all.push(delta);
    if (span(i) === 0 && span(i - 1) === 0) raw.push(delta);
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
