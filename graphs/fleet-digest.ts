import type { Sample } from "../storage/sample.js";
import { seriesKey } from "../storage/series-key.js";
import { EVENT_METRICS } from "./dashboard.js";
import { inTimeOrder, seriesAndNewest, type Point, type Series } from "./series.js";

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

/** The values as whole numbers over the smallest power of ten that gives each back exactly (the same double), else as they are. */
function packValues(points: readonly Point[]): Pick<CompactSeries, "value" | "scale"> {
  for (const scale of SCALES) {
    const exact = points.every((p) => {
      const whole = Math.round(p.value * scale);
      return Math.abs(whole) <= INT32_MAX && Object.is(whole / scale, p.value);
    });
    if (exact) return { value: Int32Array.from(points, (p) => Math.round(p.value * scale)), scale };
  }
  return { value: Float64Array.from(points, (p) => p.value), scale: 1 };
}

/**
 * The series a sensor run writes together have the same times: they share one array. Keyed by
 * length, first and last time; arrays under one key are compared whole.
 */
class SharedTimes {
  private readonly byShape = new Map<string, Float64Array[]>();

  of(points: readonly Point[]): Float64Array {
    const shape = `${points.length}:${points[0]?.t}:${points.at(-1)?.t}`;
    const candidates = this.byShape.get(shape) ?? [];
    const same = candidates.find((times) => points.every((p, i) => p.t === times[i]));
    if (same) return same;
    const times = Float64Array.from(points, (p) => p.t);
    this.byShape.set(shape, [...candidates, times]);
    return times;
  }
}

function compact(series: Series, times: SharedTimes): CompactSeries {
  const { points, ...head } = series;
  const raw = points.every((p) => p.lo === p.value && p.hi === p.value && p.span === 0);
  return {
    ...head,
    t: times.of(points),
    ...packValues(points),
    ...(raw
      ? {}
      : {
          rollups: {
            lo: Float64Array.from(points, (p) => p.lo),
            hi: Float64Array.from(points, (p) => p.hi),
            span: Float64Array.from(points, (p) => p.span),
          },
        }),
  };
}

/** The points of a compact series, as buildSeries made them. */
export function pointsOf(series: CompactSeries): Point[] {
  const { t, value, scale, rollups } = series;
  return Array.from(t, (at, i) => {
    const v = value[i]! / scale;
    return rollups
      ? { t: at, value: v, lo: rollups.lo[i]!, hi: rollups.hi[i]!, span: rollups.span[i]! }
      : { t: at, value: v, lo: v, hi: v, span: 0 };
  });
}

export function expand(series: CompactSeries): Series {
  const { server, metric, labels, unit } = series;
  return { server, metric, labels, unit, points: pointsOf(series) };
}

/**
 * The fleet's samples reduced source by source to what the pages need, so that the raw samples of
 * one source are released before the next is read: every series in compact form, the newest
 * sample of each series and the events (CERT advisories, reboots). The result equals buildSeries
 * and buildDashboard over all samples at once: sources are added in reading order, and a series
 * found in several sources is merged with the later source winning a repeated timestamp.
 */
export class FleetDigest {
  private readonly bySeries = new Map<string, CompactSeries>();
  private readonly latest: Sample[] = [];
  private readonly events: Sample[] = [];
  private readonly times = new SharedTimes();

  add(samples: readonly Sample[]): void {
    for (const sample of samples) if (EVENT_METRICS.has(sample.metric_type)) this.events.push(sample);
    const { series: all, newest } = seriesAndNewest(samples, EVENT_METRICS);
    // buildDashboard's latestByServer keeps, of these, the later source's at an equal or newer time.
    for (const sample of newest) this.latest.push(sample);
    for (const series of all) {
      const key = seriesKey({ server_id: series.server, metric_type: series.metric, labels: series.labels });
      const earlier = this.bySeries.get(key);
      if (!earlier) {
        this.bySeries.set(key, compact(series, this.times));
        continue;
      }
      const merged = expand(earlier);
      merged.points = inTimeOrder([...merged.points, ...series.points]);
      merged.unit = series.unit || merged.unit;
      this.bySeries.set(key, compact(merged, this.times));
    }
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
