import type { Point, PointColumns } from "./series.js";

/**
 * Reduces a run of time-ordered points to at most two per time bucket: the lowest and the highest
 * of the bucket, in time order. The shape and every peak survive (a one-sample spike to 100 % is
 * still drawn at 100 %), while a chart's size depends on its width, not on the number of samples.
 * A rollup point contributes its own min and max. Buckets are fixed on [from, to] so that every
 * run and every server of one chart share them.
 */
export function downsample(points: PointColumns, from: number, to: number, buckets: number): Point[] {
  const { t, value, lo, hi, span } = points;
  const count = t.length;
  const pointAt = (i: number, v: number): Point => ({ t: t[i]!, value: v, lo: v, hi: v, span: span[i]! });
  if (count <= buckets * 2 && lo.every((l, i) => l === hi[i]))
    return Array.from(t, (at, i) => ({ t: at, value: value[i]!, lo: lo[i]!, hi: hi[i]!, span: span[i]! }));
  const width = Math.max(1, (to - from) / Math.max(1, buckets));
  const out: Point[] = [];
  let i = 0;
  while (i < count) {
    const bucket = Math.floor((t[i]! - from) / width);
    let low = i;
    let high = i;
    for (; i < count && Math.floor((t[i]! - from) / width) === bucket; i++) {
      if (lo[i]! < lo[low]!) low = i;
      if (hi[i]! > hi[high]!) high = i;
    }
    const lowPoint = pointAt(low, lo[low]!);
    const highPoint = pointAt(high, hi[high]!);
    if (lowPoint.value === highPoint.value) out.push(lowPoint);
    else if (low <= high) out.push(lowPoint, highPoint);
    else out.push(highPoint, lowPoint);
  }
  return out;
}
