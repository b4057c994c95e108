import type { Config } from "../config/ams-config.js";
import type { ChartLine, ChartSpec, Shade } from "./chart.js";
import { columns } from "./columns.js";
import { downsample } from "./downsample.js";
import { safeFileName, safeFileNameOf } from "./file-names.js";
import { splitAtGaps, typicalInterval } from "./gaps.js";
import type { Range, RangeName } from "./ranges.js";
import { builtinEntry, catalogueEntry } from "../sensors/catalogue.js";
import { metricKey } from "../storage/series-key.js";
import { labelsCaption, pointsBetween, type Series } from "./series.js";
import { chartThresholds } from "./thresholds.js";
import type { FiringPeriod } from "./alert-periods.js";

/** Buckets across a chart with one line: two points each, about one per two pixels of a wide plot. */
const BUCKETS_PER_LINE = 240;
/** Points a combined chart may hold in all, so that a fleet page stays light with any fleet size. */
const POINTS_PER_CHART = 2400;
const MIN_BUCKETS = 12;
/** Hover columns (and CSV rows) across a chart. */
const COLUMNS = 96;
/** A chart of data younger than its range still spans at least this much. */
const MIN_SPAN = 10 * 60_000;

/** One chart of a page: what it shows, its raw-data file and its note. */
export interface PlannedChart {
  /** Unique among the charts of one range: the figure's anchor. */
  id: string;
  /** Its buckets as CSV, relative to public/. */
  csv: string;
  range: RangeName;
  /** The server it belongs to; undefined for a combined chart. */
  server?: string;
  /** When the data starts inside the range: the time it starts. */
  collectingSince?: number;
  spec: ChartSpec;
}

/** What the charts show besides the samples: firing periods and reboots (from the history and the events). */
export interface ChartContext {
  periods: readonly FiringPeriod[];
  /** Reboot times by server. */
  reboots: ReadonlyMap<string, readonly number[]>;
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

/** "Disk /" or "CPU": the catalogue's title and the label values. */
export function metricTitle(series: Pick<Series, "metric" | "labels">): string {
  const labels = Object.keys(series.labels)
    .sort()
    .map((k) => series.labels[k])
    .join(" ");
  const title = builtinEntry(series.metric)?.title ?? series.metric;
  return labels ? `${title} ${labels}` : title;
}

/** The y axis bounds its catalogue entry asks for (0–100 for a percentage). */
const axisOf = (series: Pick<Series, "metric" | "unit">) => {
  const chart = catalogueEntry(series.metric, series.unit).chart;
  return {
    ...(chart?.floor !== undefined ? { floor: chart.floor } : {}),
    ...(chart?.ceiling !== undefined ? { ceiling: chart.ceiling } : {}),
  };
};

/** The metric and its labels as one file-name part. */
export const metricFile = (s: Pick<Series, "metric" | "labels">) =>
  safeFileNameOf([
    s.metric,
    ...Object.keys(s.labels)
      .sort()
      .flatMap((k) => [k, s.labels[k]!]),
  ]);

/** Where a server's raw-data files live, relative to public/. */
export const serverDataDir = (server: string) => `data/${safeFileName(server)}`;

// Each series is drawn once per range alone and once combined: its interval is computed once.
const intervals = new WeakMap<Series, number>();
function intervalOf(series: Series): number {
  let interval = intervals.get(series);
  if (interval === undefined) intervals.set(series, (interval = typicalInterval(series.points)));
  return interval;
}

/** A series without its points: what names and decorates a chart. */
export type SeriesHead = Omit<Series, "points">;

/** Where a chart starts (and since when it has data, when later than its range) and the buckets of each line. */
export interface ChartFrame {
  from: number;
  since?: number;
  buckets: number;
}

/** The frame of a chart over `range` whose data starts at `first`: the range's start, or where its data starts. */
function frameOf(first: number, range: Range, now: number, buckets: number): ChartFrame {
  const rangeFrom = now - range.ms;
  // Data that starts within 2 % of the range fills it: nothing to say.
  if (!(first > rangeFrom + range.ms * 0.02)) return { from: rangeFrom, buckets };
  return { from: Math.max(rangeFrom, Math.min(first - (now - first) * 0.03, now - MIN_SPAN)), since: first, buckets };
}

/** One line of a chart: the series' points in the frame, split at gaps and downsampled, and its hover columns. */
export function chartLine(series: Series, frame: ChartFrame, now: number): ChartLine {
  const inRange = pointsBetween(series.points, frame.from, now);
  const runs = splitAtGaps(inRange, intervalOf(series)).map((run) => downsample(run, frame.from, now, frame.buckets));
  return { name: series.server, runs, columns: columns(inRange, frame.from, now, COLUMNS) };
}

const samePeriodSeries = (p: FiringPeriod, s: SeriesHead) =>
  p.metric === s.metric && metricKey(p.metric, p.labels) === metricKey(s.metric, s.labels);

function shadesOf(group: readonly SeriesHead[], context: ChartContext, combined: boolean): Shade[] {
  return context.periods
    .filter((p) => group.some((s) => s.server === p.server && samePeriodSeries(p, s)))
    .map((p) => ({ from: p.from, to: p.to, label: combined ? `${p.rule} on ${p.server}` : p.rule }));
}

function chartOf(
  group: readonly SeriesHead[],
  frame: ChartFrame,
  lines: ChartLine[],
  range: Range,
  now: number,
  config: Config,
  context: ChartContext,
  server: string | undefined,
): PlannedChart {
  const first = group[0]!;
  const { from, since } = frame;
  const title = `${metricTitle(first)} on ${server ?? "all servers"}, ${range.label}`;
  const id = metricFile(first);
  return {
    id,
    csv: `${server === undefined ? "data/fleet" : serverDataDir(server)}/${id}-${range.name}.csv`,
    range: range.name,
    ...(server !== undefined ? { server } : {}),
    ...(since !== undefined ? { collectingSince: since } : {}),
    spec: {
      title,
      unit: first.unit,
      ...axisOf(first),
      from,
      to: now,
      buckets: COLUMNS,
      tickFormat: range.tickFormat,
      lines,
      thresholds: chartThresholds(config, first.metric, first.labels, server),
      shades: shadesOf(group, context, server === undefined),
      reboots: [...new Set(group.flatMap((s) => context.reboots.get(s.server) ?? []))],
    },
  };
}

/** The charts of one server over one range: one per series, in catalogue order. */
export function planServerCharts(
  serverSeries: readonly Series[],
  range: Range,
  config: Config,
  now: number,
  context: ChartContext,
): PlannedChart[] {
  return [...serverSeries].sort(compareSeries).map((series) => {
    const frame = frameOf(series.points[0]?.t ?? Infinity, range, now, BUCKETS_PER_LINE);
    return chartOf([series], frame, [chartLine(series, frame, now)], range, now, config, context, series.server);
  });
}

/**
 * The series of the combined charts, grouped: one group per metric + labels, in chart order, each
 * with a line per server by name. Takes series without their points too: a renderer holding the
 * fleet in compact form expands one group at a time.
 */
export function fleetGroups<S extends Pick<Series, "server" | "metric" | "labels">>(allSeries: readonly S[]): S[][] {
  const groups = new Map<string, S[]>();
  const sorted = [...allSeries].sort((a, b) => compareSeries(a, b) || a.server.localeCompare(b.server));
  for (const series of sorted) {
    const key = metricKey(series.metric, series.labels);
    const group = groups.get(key);
    if (group) group.push(series);
    else groups.set(key, [series]);
  }
  return [...groups.values()];
}

/**
 * The frame of a combined chart over `range` of `count` series whose data starts at `first`:
 * fewer buckets per line the more lines, so that a fleet page stays light with any fleet size.
 */
export function fleetFrame(first: number, count: number, range: Range, now: number): ChartFrame {
  const buckets = Math.max(MIN_BUCKETS, Math.min(BUCKETS_PER_LINE, Math.floor(POINTS_PER_CHART / 2 / count)));
  return frameOf(first, range, now, buckets);
}

/** One combined chart from its group's lines, each drawn in the group's fleetFrame. */
export function fleetChart(
  group: readonly SeriesHead[],
  frame: ChartFrame,
  lines: ChartLine[],
  range: Range,
  config: Config,
  now: number,
  context: ChartContext,
): PlannedChart {
  return chartOf(group, frame, lines, range, now, config, context, undefined);
}

/** The combined charts over one range: one per metric + labels, a line per server. */
export function planFleetCharts(
  allSeries: readonly Series[],
  range: Range,
  config: Config,
  now: number,
  context: ChartContext,
): PlannedChart[] {
  return fleetGroups(allSeries).map((group) => {
    const first = group.reduce((f, s) => Math.min(f, s.points[0]?.t ?? Infinity), Infinity);
    const frame = fleetFrame(first, group.length, range, now);
    const lines = group.map((series) => chartLine(series, frame, now));
    return fleetChart(group, frame, lines, range, config, now, context);
  });
}
