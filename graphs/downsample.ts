import type { Point } from "./series.js";

/**
 * Reduces a run of time-ordered points to at most two per time bucket: the lowest and the highest
 * of the bucket, in time order. The shape and every peak survive (a one-sample spike to 100 % is
 * still drawn at 100 %), while a chart's size depends on its width, not on the number of samples.
 * A rollup point contributes its own min and max. Buckets are fixed on [from, to] so that every
 * run and every server of one chart share them.
 */
export function downsample(points: readonly Point[], from: number, to: number, buckets: number): Point[] {
  if (points.length <= buckets * 2 && points.every((p) => p.lo === p.hi)) return [...points];
  const width = Math.max(1, (to - from) / Math.max(1, buckets));
  const out: Point[] = [];
  let i = 0;
  while (i < points.length) {
    const bucket = Math.floor((points[i]!.t - from) / width);
    let low = points[i]!;
    let high = points[i]!;
    for (; i < points.length && Math.floor((points[i]!.t - from) / width) === bucket; i++) {
      const p = points[i]!;
      if (p.lo < low.lo) low = p;
      if (p.hi > high.hi) high = p;
    }
    const lowPoint = { t: low.t, value: low.lo, lo: low.lo, hi: low.lo, span: low.span };
    const highPoint = { t: high.t, value: high.hi, lo: high.hi, hi: high.hi, span: high.span };
    if (lowPoint.value === highPoint.value) out.push(lowPoint);
    else if (low.t <= high.t) out.push(lowPoint, highPoint);
    else out.push(highPoint, lowPoint);
  }
  return out;
}
