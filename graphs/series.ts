import type { Sample } from "../storage/sample.js";
import { seriesKey } from "../storage/series-key.js";

/** One measured point of a series; `lo`/`hi` are the rollup's min/max (both = value for a raw sample). */
export interface Point {
  t: number;
  value: number;
  lo: number;
  hi: number;
  /** The span this point stands for (a rollup's period), 0 for a raw sample. */
  span: number;
}

/** A series is server_id + metric_type + labels (docs/ARCHITECTURE.md#the-record). */
export interface Series {
  server: string;
  metric: string;
  labels: Record<string, string>;
  unit: string;
  /** Oldest first. */
  points: Point[];
}

/**
 * Points as columns, oldest first: what a chart line is cut from, a chart's window of a series
 * kept in columns (fleet-digest.ts) without an object per point. A raw sample's lo and hi are its value.
 */
export interface PointColumns {
  t: Float64Array;
  value: Float64Array;
  lo: Float64Array;
  hi: Float64Array;
  span: Float64Array;
}

/** What a chart line is drawn from: its name (the server's), its points, and the typical interval of its whole series (gaps.ts). */
export interface LineSource {
  name: string;
  points: PointColumns;
  interval: number;
}

/** Points made into columns: a whole series drawn whole (lineSource), as the tests draw their reference. */
export function pointColumns(points: readonly Point[]): PointColumns {
  return {
    t: Float64Array.from(points, (p) => p.t),
    value: Float64Array.from(points, (p) => p.value),
    lo: Float64Array.from(points, (p) => p.lo),
    hi: Float64Array.from(points, (p) => p.hi),
    span: Float64Array.from(points, (p) => p.span),
  };
}

/** The points from the `start`-th to before the `end`-th, without copying them. */
export function sliceColumns(points: PointColumns, start: number, end: number): PointColumns {
  const { t, value, lo, hi, span } = points;
  return {
    t: t.subarray(start, end),
    value: value.subarray(start, end),
    lo: lo.subarray(start, end),
    hi: hi.subarray(start, end),
    span: span.subarray(start, end),
  };
}

/** "mount=/, fs=x" for labels, "" without: how a chart names the series' labels. */
export function labelsCaption(labels: Record<string, string>): string {
  return Object.keys(labels)
    .sort()
    .map((key) => `${key}=${labels[key]}`)
    .join(", ");
}

function pointOf(sample: Sample): Point | undefined {
  const t = Date.parse(sample.timestamp);
  if (!Number.isFinite(t) || !Number.isFinite(sample.value)) return undefined;
  const r = sample.rollup;
  return r
    ? { t, value: sample.value, lo: r.min, hi: r.max, span: r.period_seconds * 1000 }
    : { t, value: sample.value, lo: sample.value, hi: sample.value, span: 0 };
}

/**
 * Groups samples into series (skipping `skipMetrics`, e.g. CERT advisories that are not
 * measurements), each sorted by time, a repeated timestamp kept once (the last one read).
 * ams-graphs gathers the same series store by store (fleet-digest.ts); this is what it must equal.
 */
export function buildSeries(samples: readonly Sample[], skipMetrics: ReadonlySet<string> = new Set()): Series[] {
  const byKey = new Map<string, Series>();
  for (const sample of samples) {
    if (skipMetrics.has(sample.metric_type)) continue;
    const point = pointOf(sample);
    if (!point) continue;
    const key = seriesKey(sample);
    let series = byKey.get(key);
    if (!series) {
      series = {
        server: sample.server_id,
        metric: sample.metric_type,
        labels: sample.labels ?? {},
        unit: sample.unit,
        points: [],
      };
      byKey.set(key, series);
    }
    series.unit = sample.unit || series.unit;
    series.points.push(point);
  }
  const all = [...byKey.values()];
  for (const series of all) series.points = inTimeOrder(series.points);
  return all;
}

/** Sorts points by time in place, a repeated timestamp kept once: the last one given. */
export function inTimeOrder(points: Point[]): Point[] {
  // A stable sort keeps the given order among equal timestamps: the last one read wins.
  const sorted = points.sort((a, b) => a.t - b.t);
  return sorted.filter((p, i) => i === sorted.length - 1 || sorted[i + 1]!.t !== p.t);
}

/** The index of the first time at or after `at` in ascending times (binary search: ranges cut long series). */
export function firstAtOrAfter(t: ArrayLike<number>, at: number): number {
  let lo = 0;
  let hi = t.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (t[mid]! < at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The points of [from, to], without copying them. */
export function columnsBetween(points: PointColumns, from: number, to: number): PointColumns {
  return sliceColumns(points, firstAtOrAfter(points.t, from), firstAtOrAfter(points.t, to + 1));
}
