import { createHash } from "node:crypto";
import type { Sample } from "../storage/sample.js";
import { seriesKey } from "../storage/series-key.js";
import { EVENT_METRICS } from "./dashboard.js";
import type { SourceFold } from "../storage/fleet.js";
import { medianInterval } from "./gaps.js";
import { firstAtOrAfter, inTimeOrder, type LineSource, type Point, type PointColumns, type Series } from "./series.js";

/**
 * A series kept as numbers only, in typed arrays: its times (shared with the series written at the
 * same times), its values (4 bytes each when they are all whole hundredths or the like, 8
 * otherwise) and a rollup's min, max and span only when the series has rollups. A Sample with its
 * details takes hundreds of bytes. Made into a Series again one server or one chart line at a time.
 */
export interface CompactSeries extends Omit<Series, "points"> {
  t: Float64Array;
  /** value[i] / scale is the i-th value, exactly. */
  value: Int32Array | Float64Array;
  scale: number;
  rollups?: { lo: Float64Array; hi: Float64Array; span: Float64Array };
}

const SCALES = [1, 10, 100, 1000];
const INT32_MAX = 2 ** 31 - 1;

/** A series' numbers, column by column, oldest first; the rollup columns only when a point is a rollup. */
interface Columns {
  t: ArrayLike<number>;
  value: ArrayLike<number>;
  rollups?: { lo: ArrayLike<number>; hi: ArrayLike<number>; span: ArrayLike<number> };
}

function columnsOf(points: readonly Point[]): Columns {
  return {
    t: points.map((p) => p.t),
    value: points.map((p) => p.value),
    rollups: { lo: points.map((p) => p.lo), hi: points.map((p) => p.hi), span: points.map((p) => p.span) },
  };
}

/** The values as whole numbers over the smallest power of ten that gives each back exactly (the same double), else as they are. */
function packValues(values: ArrayLike<number>): Pick<CompactSeries, "value" | "scale"> {
  for (const scale of SCALES) {
    const wholes = new Int32Array(values.length);
    let exact = true;
    for (let i = 0; i < values.length && exact; i++) {
      const whole = Math.round(values[i]! * scale);
      exact = Math.abs(whole) <= INT32_MAX && Object.is(whole / scale, values[i]);
      wholes[i] = whole;
    }
    if (exact) return { value: wholes, scale };
  }
  return { value: Float64Array.from(values), scale: 1 };
}

/**
 * The series a sensor run writes together have the same times: they share one array. Keyed by
 * length, first and last time; arrays under one key are compared whole.
 */
class SharedTimes {
  private readonly byShape = new Map<string, Float64Array[]>();

  of(t: ArrayLike<number>): Float64Array {
    const shape = `${t.length}:${t[0]}:${t[t.length - 1]}`;
    const candidates = this.byShape.get(shape) ?? [];
    const same = candidates.find((times) => {
      for (let i = 0; i < t.length; i++) if (t[i] !== times[i]) return false;
      return true;
    });
    if (same) return same;
    const times = Float64Array.from(t);
    this.byShape.set(shape, [...candidates, times]);
    return times;
  }
}

function compact(head: Omit<Series, "points">, columns: Columns, times: SharedTimes): CompactSeries {
  const { t, value, rollups } = columns;
  let raw = true;
  for (let i = 0; rollups && raw && i < t.length; i++)
    raw = rollups.lo[i] === value[i] && rollups.hi[i] === value[i] && rollups.span[i] === 0;
  return {
    ...head,
    t: times.of(t),
    ...packValues(value),
    ...(raw || !rollups
      ? {}
      : {
          rollups: {
            lo: Float64Array.from(rollups.lo),
            hi: Float64Array.from(rollups.hi),
            span: Float64Array.from(rollups.span),
          },
        }),
  };
}

/** The points of columns whose values are `scale` times the real ones. */
function pointsFrom({ t, value, rollups }: Columns, scale = 1): Point[] {
  return Array.from(t, (at, i) => {
    const v = value[i]! / scale;
    return rollups
      ? { t: at, value: v, lo: rollups.lo[i]!, hi: rollups.hi[i]!, span: rollups.span[i]! }
      : { t: at, value: v, lo: v, hi: v, span: 0 };
  });
}

/** The whole series with its points, as buildSeries made it. */
export function expand(series: CompactSeries): Series {
  const { server, metric, labels, unit } = series;
  return { server, metric, labels, unit, points: pointsFrom(series, series.scale) };
}

/** The columns of the points from the `start`-th to before the `end`-th, without copying them. */
function window(
  series: CompactSeries,
  start: number,
  end = series.t.length,
): Pick<CompactSeries, "t" | "value" | "rollups"> {
  const { t, value, rollups } = series;
  return {
    t: t.subarray(start, end),
    value: value.subarray(start, end),
    ...(rollups
      ? {
          rollups: {
            lo: rollups.lo.subarray(start, end),
            hi: rollups.hi.subarray(start, end),
            span: rollups.span.subarray(start, end),
          },
        }
      : {}),
  };
}

const intervals = new WeakMap<CompactSeries, number>();

/** typicalInterval of the whole series, computed once. */
function intervalOf(series: CompactSeries): number {
  let interval = intervals.get(series);
  if (interval === undefined) {
    interval = medianInterval(series.t, series.rollups?.span);
    intervals.set(series, interval);
  }
  return interval;
}

/** The points of the series from `from` on, in columns: a window need not make an object per point. */
export function columnsFrom(series: CompactSeries, from: number): PointColumns {
  const { t, value, rollups } = window(series, firstAtOrAfter(series.t, from));
  const values = new Float64Array(value.length);
  for (let i = 0; i < value.length; i++) values[i] = value[i]! / series.scale;
  return { t, value: values, ...(rollups ?? { lo: values, hi: values, span: new Float64Array(t.length) }) };
}

/**
 * A chart line's source: the points of the series from `from` on, and the whole series' typical
 * interval, so that the window's gaps are judged as the whole's.
 */
export const lineFrom = (series: CompactSeries, from: number): LineSource => ({
  name: series.server,
  points: columnsFrom(series, from),
  interval: intervalOf(series),
});

/**
 * What the points of the series in [from, to] are made from, as bytes: the whole series' interval,
 * the scale, and the columns of those points (their times as a hash). Equal bytes give an equal
 * line of a chart over that window (charts.ts chartLine), so a kept chart's key can be taken
 * without making the line.
 */
export function windowBytes(series: CompactSeries, from: number, to: number): Uint8Array[] {
  const start = firstAtOrAfter(series.t, from);
  const end = firstAtOrAfter(series.t, to + 1);
  const { value, rollups } = window(series, start, end);
  const head = Float64Array.of(intervalOf(series), series.scale, end - start, rollups ? 1 : 0);
  return [
    bytes(head),
    timesDigest(series.t, start, end),
    bytes(value),
    ...(rollups ? [rollups.lo, rollups.hi, rollups.span].map(bytes) : []),
  ];
}

const bytes = (a: Float64Array | Int32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

const digests = new WeakMap<Float64Array, Map<string, Uint8Array>>();

/**
 * A hash of the times from the `start`-th to before the `end`-th, made once per times array and
 * window: the series of one sensor run share their times (SharedTimes), and hashing them for each
 * of a page's charts was most of the work of finding its kept charts.
 */
function timesDigest(t: Float64Array, start: number, end: number): Uint8Array {
  const made = digests.get(t) ?? digests.set(t, new Map()).get(t)!;
  const key = `${start}:${end}`;
  let digest = made.get(key);
  if (!digest)
    made.set(
      key,
      (digest = createHash("sha1")
        .update(bytes(t.subarray(start, end)))
        .digest()),
    );
  return digest;
}

/**
 * One series of one source as its samples are read, in reading order (buildSeries), with the newest
 * of them (the last one read of its newest time: what latestByServer picks).
 */
export interface Gathered {
  head: Omit<Series, "points">;
  t: number[];
  value: number[];
  /** Filled in once a rollup is met, the raw points before it as their own bounds. */
  rollups?: { lo: number[]; hi: number[]; span: number[] };
  /** The newest sample, whole. */
  newest: () => Sample;
  newestT: number;
}

/** The gathered series of one server and metric: without labels, and by labels. */
interface ByLabels {
  none?: Gathered;
  /** A store reader gives the records whose labels read the same one object: found without a key. */
  byObject: WeakMap<object, Gathered>;
  /** By names and values in name order, NUL-separated (names and labels hold no control character, sampleProblem). */
  byText: Map<string, Gathered>;
}

/**
 * One source's series by identity (seriesKey's: server, metric and labels, labels in any order),
 * found without building a key for every sample: a Map of string keys would hash a new string
 * each time.
 */
class SourceSeries {
  private readonly byName = new Map<string, Map<string, ByLabels>>();
  /** In the order they were first met. */
  readonly all: Gathered[] = [];

  /** Goes on from series gathered earlier (a source read from where its last read stopped). */
  constructor(earlier: readonly Gathered[] = []) {
    for (const g of earlier) this.find(g.head.server, g.head.metric, g.head.labels, () => this.kept(g));
  }

  /** The series of `sample` (`whole()` at time `t`), started when it is its first. */
  of(sample: Sample, whole: () => Sample, t: number): Gathered {
    return this.find(sample.server_id, sample.metric_type, sample.labels, () => {
      const head = {
        server: sample.server_id,
        metric: sample.metric_type,
        labels: sample.labels ?? {},
        unit: sample.unit,
      };
      return this.kept({ head, t: [], value: [], newest: whole, newestT: t });
    });
  }

  /** The series of these server, metric and labels; `start()` makes it when there is none. */
  private find(server: string, metric: string, labels: Record<string, string> | undefined, start: () => Gathered) {
    let metrics = this.byName.get(server);
    if (!metrics) this.byName.set(server, (metrics = new Map<string, ByLabels>()));
    let byLabels = metrics.get(metric);
    if (!byLabels) metrics.set(metric, (byLabels = { byObject: new WeakMap(), byText: new Map() }));
    if (!labels) return (byLabels.none ??= start());
    const known = byLabels.byObject.get(labels);
    if (known) return known;
    const names = Object.keys(labels).sort();
    let g: Gathered;
    if (names.length === 0) g = byLabels.none ??= start();
    else {
      const text = names.map((name) => `${name}\u0000${labels[name]}`).join("\u0000");
      g = byLabels.byText.get(text) ?? start();
      byLabels.byText.set(text, g);
    }
    byLabels.byObject.set(labels, g);
    return g;
  }

  private kept(g: Gathered): Gathered {
    this.all.push(g);
    return g;
  }
}

/** What the fold of one source gathered: its series, in the order they were first met, and its events. */
export interface SourceGathering {
  series: Gathered[];
  events: Sample[];
}

/** Sorts the gathered points by time, a repeated timestamp kept once: the last one read (inTimeOrder). */
function inTimeOrderColumns(g: Gathered): Columns {
  const { t, value, rollups } = g;
  let ordered = true;
  for (let i = 1; i < t.length && ordered; i++) ordered = t[i - 1]! < t[i]!;
  if (ordered) return { t, value, ...(rollups ? { rollups } : {}) };
  // A stable sort keeps the reading order among equal timestamps: the last one read wins.
  const order = Array.from(t, (_, i) => i).sort((a, b) => t[a]! - t[b]!);
  const kept = order.filter((index, k) => k === order.length - 1 || t[order[k + 1]!] !== t[index]);
  const pick = (column: number[]) => kept.map((i) => column[i]!);
  return {
    t: pick(t),
    value: pick(value),
    ...(rollups ? { rollups: { lo: pick(rollups.lo), hi: pick(rollups.hi), span: pick(rollups.span) } } : {}),
  };
}

/**
 * The fleet's samples reduced source by source to what the pages need, so that the raw samples of
 * one source are released as they are read: every series in compact form, the newest sample of
 * each series and the events (CERT advisories, reboots). The result equals buildSeries and
 * buildDashboard over all samples at once: sources are added in reading order, and a series found
 * in several sources is merged with the later source winning a repeated timestamp.
 */
export class FleetDigest {
  private readonly bySeries = new Map<string, CompactSeries>();
  private readonly latest: Sample[] = [];
  private readonly events: Sample[] = [];
  private readonly times = new SharedTimes();

  /**
   * A fold of one source's samples (forEachFleetSource): its series and their newest samples, added
   * when finished; `earlier`, what a fold of the same source gathered up to where its read stopped,
   * goes on from there. `gathered()` gives what it holds, for a later fold to go on from.
   */
  source(earlier?: SourceGathering): SourceFold & { gathered(): SourceGathering } {
    const gathered = new SourceSeries(earlier?.series);
    const events: Sample[] = [...(earlier?.events ?? [])];
    // The records of one sensor run share their timestamp: parsed once.
    let lastStamp = "";
    let lastT = NaN;
    return {
      add: (sample, whole) => {
        if (EVENT_METRICS.has(sample.metric_type)) {
          events.push(whole());
          return;
        }
        if (sample.timestamp !== lastStamp) {
          lastStamp = sample.timestamp;
          lastT = Date.parse(lastStamp);
        }
        const t = lastT;
        if (!Number.isFinite(t) || !Number.isFinite(sample.value)) return;
        const g = gathered.of(sample, whole, t);
        g.head.unit = sample.unit || g.head.unit;
        const r = sample.rollup;
        if (r && !g.rollups) g.rollups = { lo: [...g.value], hi: [...g.value], span: g.value.map(() => 0) };
        g.t.push(t);
        g.value.push(sample.value);
        if (g.rollups) {
          g.rollups.lo.push(r ? r.min : sample.value);
          g.rollups.hi.push(r ? r.max : sample.value);
          g.rollups.span.push(r ? r.period_seconds * 1000 : 0);
        }
        if (t >= g.newestT) {
          g.newest = whole;
          g.newestT = t;
        }
      },
      finish: () => {
        for (const sample of events) this.events.push(sample);
        for (const g of gathered.all) this.addSeries(g);
      },
      gathered: () => ({ series: gathered.all, events }),
    };
  }

  private addSeries(g: Gathered): void {
    // buildDashboard's latestByServer keeps, of these, the later source's at an equal or newer time.
    this.latest.push(g.newest());
    const key = seriesKey({ server_id: g.head.server, metric_type: g.head.metric, labels: g.head.labels });
    const columns = inTimeOrderColumns(g);
    const earlier = this.bySeries.get(key);
    if (!earlier) {
      this.bySeries.set(key, compact(g.head, columns, this.times));
      return;
    }
    const merged = expand(earlier);
    merged.points = inTimeOrder([...merged.points, ...pointsFrom(columns)]);
    merged.unit = g.head.unit || merged.unit;
    const { points: all, ...head } = merged;
    this.bySeries.set(key, compact(head, columnsOf(all), this.times));
  }

  /** Every series, in the order buildSeries gives them (first seen first). */
  series(): CompactSeries[] {
    return [...this.bySeries.values()];
  }

  /** The samples buildDashboard needs to show what it would show from all of them. */
  dashboardSamples(): Sample[] {
    return [...this.events, ...this.latest];
  }
}
