import type { Config } from "../config/ams-config.js";
import type { ChartSpec } from "./chart.js";
import { downsample } from "./downsample.js";
import { safeFileName, safeFileNameOf } from "./file-names.js";
import { splitAtGaps, typicalInterval } from "./gaps.js";
import { RANGES, type Range } from "./ranges.js";
import { builtinEntry, catalogueEntry } from "../sensors/catalogue.js";
import { metricKey } from "../storage/series-key.js";
import { labelsCaption, pointsBetween, type Series } from "./series.js";
import { chartThresholds } from "./thresholds.js";

/** Buckets across a chart with one line: two points each, about one per pixel of the plot. */
const BUCKETS_PER_LINE = 330;
/** Points a combined chart may hold in all, so that it stays well under 150 KB with any fleet size. */
const POINTS_PER_CHART = 6000;
const MIN_BUCKETS = 12;

/** One chart to write: its file under public/ and what it shows. */
export interface PlannedChart {
  file: string;
  alt: string;
  range: Range["name"];
  /** The server it belongs to; undefined for a combined chart. */
  server?: string;
  spec: ChartSpec;
}

export interface ChartFilter {
  range?: Range["name"];
  server?: string;
}

/** Built-in metrics first, in their catalogue order; any other metric (custom sensors) after them by name. */
export function compareSeries(a: Pick<Series, "metric" | "labels">, b: Pick<Series, "metric" | "labels">): number {
  const rank = (m: string) => builtinEntry(m)?.chart?.order ?? Number.MAX_SAFE_INTEGER;
  return (
    rank(a.metric) - rank(b.metric) ||
    a.metric.localeCompare(b.metric) ||
    labelsCaption(a.labels).localeCompare(labelsCaption(b.labels))
  );
}

/** "Disk (mount=/)" or "CPU": the catalogue's title and the labels. */
export function metricTitle(series: Pick<Series, "metric" | "labels">): string {
  const labels = labelsCaption(series.labels);
  const title = builtinEntry(series.metric)?.title ?? series.metric;
  return labels ? `${title} (${labels})` : title;
}

/** The y axis bounds its catalogue entry asks for (0–100 for a percentage). */
const axisOf = (series: Pick<Series, "metric" | "unit">) => {
  const chart = catalogueEntry(series.metric, series.unit).chart;
  return {
    ...(chart?.floor !== undefined ? { floor: chart.floor } : {}),
    ...(chart?.ceiling !== undefined ? { ceiling: chart.ceiling } : {}),
  };
};

const metricFile = (s: Pick<Series, "metric" | "labels">) =>
  safeFileNameOf([
    s.metric,
    ...Object.keys(s.labels)
      .sort()
      .flatMap((k) => [k, s.labels[k]!]),
  ]);

/** Where a server's charts live, relative to public/. */
export function serverChartDir(server: string): string {
  return `charts/servers/${safeFileName(server)}`;
}

export const serverChartFile = (series: Series, range: Range) =>
  `${serverChartDir(series.server)}/${metricFile(series)}-${range.name}.svg`;
export const combinedChartFile = (series: Pick<Series, "metric" | "labels">, range: Range) =>
  `charts/fleet/${metricFile(series)}-${range.name}.svg`;

// Each series is drawn six times (three ranges, alone and combined): its interval is computed once.
const intervals = new WeakMap<Series, number>();
function intervalOf(series: Series): number {
  let interval = intervals.get(series);
  if (interval === undefined) intervals.set(series, (interval = typicalInterval(series.points)));
  return interval;
}

function lineOf(series: Series, range: Range, now: number, buckets: number) {
  const from = now - range.ms;
  const interval = intervalOf(series);
  const runs = splitAtGaps(pointsBetween(series.points, from, now), interval).map((run) =>
    downsample(run, from, now, buckets),
  );
  return { name: series.server, runs };
}

/**
 * Every chart of the fleet for `now`: one per series (server + metric + labels) and range, and one
 * combined chart per metric + labels and range with a line per server.
 */
export function planCharts(
  allSeries: readonly Series[],
  config: Config,
  now: number,
  filter: ChartFilter = {},
): PlannedChart[] {
  const ranges = RANGES.filter((r) => !filter.range || r.name === filter.range);
  const sorted = [...allSeries].sort((a, b) => compareSeries(a, b) || a.server.localeCompare(b.server));
  const charts: PlannedChart[] = [];
  for (const series of sorted) {
    if (filter.server !== undefined && series.server !== filter.server) continue;
    for (const range of ranges) {
      const title = `${metricTitle(series)} on ${series.server}, ${range.label}`;
      charts.push({
        file: serverChartFile(series, range),
        alt: title,
        range: range.name,
        server: series.server,
        spec: {
          title,
          unit: series.unit,
          ...axisOf(series),
          from: now - range.ms,
          to: now,
          tickFormat: range.tickFormat,
          lines: [lineOf(series, range, now, BUCKETS_PER_LINE)],
          thresholds: chartThresholds(config, series.metric, series.labels, series.server),
        },
      });
    }
  }
  if (filter.server !== undefined) return charts;
  const groups = new Map<string, Series[]>();
  for (const series of sorted) {
    const key = metricKey(series.metric, series.labels);
    groups.set(key, [...(groups.get(key) ?? []), series]);
  }
  for (const group of groups.values()) {
    const first = group[0]!;
    const buckets = Math.max(MIN_BUCKETS, Math.min(BUCKETS_PER_LINE, Math.floor(POINTS_PER_CHART / 2 / group.length)));
    for (const range of ranges) {
      const title = `${metricTitle(first)} on all servers, ${range.label}`;
      charts.push({
        file: combinedChartFile(first, range),
        alt: title,
        range: range.name,
        spec: {
          title,
          unit: first.unit,
          ...axisOf(first),
          from: now - range.ms,
          to: now,
          tickFormat: range.tickFormat,
          lines: group.map((series) => lineOf(series, range, now, buckets)),
          thresholds: chartThresholds(config, first.metric, first.labels),
        },
      });
    }
  }
  return charts;
}
