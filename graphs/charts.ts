import type { Config } from "../config/ams-config.js";
import type { ChartLine, ChartSpec, Shade } from "./chart.js";
import { columns } from "./columns.js";
import { downsample } from "./downsample.js";
import { safeFileName, safeFileNameOf } from "./file-names.js";
import { splitAtGaps, typicalInterval } from "./gaps.js";
import { lastStepEnd, STEPS_PER_RANGE, type Range, type RangeName } from "./ranges.js";
import { builtinEntry, catalogueEntry } from "../sensors/catalogue.js";
import { metricKey } from "../storage/series-key.js";
import { columnsBetween, labelsCaption, pointColumns, type LineSource, type Series } from "./series.js";
import { chartThresholds } from "./thresholds.js";
import type { FiringPeriod } from "./alert-periods.js";

/**
 * Buckets across a chart with one line: two points each, about one per two pixels of a wide plot.
 * One step of a long range each, so a chart that ends at a step keeps its buckets from step to step.
 */
const BUCKETS_PER_LINE = STEPS_PER_RANGE;
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
  /** How far a server's long-range steps are shifted (ranges.ts stepPhase); unshifted when not given. */
  stepPhase?: (server: string, step: number) => number;
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

/** A series without its points: what names and decorates a chart. */
export type SeriesHead = Omit<Series, "points">;

/** Where a chart starts and ends (and since when it has data, when later than its range) and the buckets of each line. */
export interface ChartFrame {
  from: number;
  /** Now, or the last whole step of a long range whose data reaches back a tenth of it (frameOf). */
  to: number;
  since?: number;
  buckets: number;
}

/**
 * The frame of a chart over `range` whose data starts at `first`. Data that fills a long range is
 * shown up to the range's last whole step: newer samples change the chart once the step completes,
 * as an RRD's consolidated rows do (so a chart is the same from run to run within a step, and is
 * not drawn again). Data that starts inside the range is shown from where it starts: up to the
 * last whole step too when it reaches back a tenth of the range (a week of data in the 30-day
 * chart), else up to `now`, so that a new server's long ranges are never empty.
 */
function frameOf(first: number, range: Range, now: number, buckets: number, phase = 0): ChartFrame {
  const stepEnd = range.step === undefined ? now : lastStepEnd(range.step, now, phase);
  // Data that starts within 2 % of the range fills it: nothing to say.
  if (!(first > stepEnd - range.ms * 0.98)) return { from: stepEnd - range.ms, to: stepEnd, buckets };
  const to = first <= stepEnd - range.ms / 10 ? stepEnd : now;
  const from = Math.max(to - range.ms, Math.min(first - (to - first) * 0.03, to - MIN_SPAN));
  return { from, to, since: first, buckets };
}

/** One line of a chart: the points in the frame, split at gaps and downsampled, and its hover columns. */
export function chartLine(source: LineSource, frame: ChartFrame): ChartLine {
  const { from, to } = frame;
  const inRange = columnsBetween(source.points, from, to);
  const runs = splitAtGaps(inRange, source.interval).map((run) => downsample(run, from, to, frame.buckets));
  return { name: source.name, runs, columns: columns(inRange, from, to, COLUMNS) };
}

/** A whole series as a chart line's source. */
export function lineSource(series: Series): LineSource {
  const points = pointColumns(series.points);
  return { name: series.server, points, interval: typicalInterval(points) };
}

const samePeriodSeries = (p: FiringPeriod, s: SeriesHead) =>
  p.metric === s.metric && metricKey(p.metric, p.labels) === metricKey(s.metric, s.labels);

/** The firing periods of the group's series, cut at the chart's end (a firing alert's lasts until now). */
function shadesOf(group: readonly SeriesHead[], context: ChartContext, combined: boolean, to: number): Shade[] {
  return context.periods
    .filter((p) => group.some((s) => s.server === p.server && samePeriodSeries(p, s)))
    .map((p) => ({ from: p.from, to: Math.min(p.to, to), label: combined ? `${p.rule} on ${p.server}` : p.rule }));
}

function chartOf(
  group: readonly SeriesHead[],
  frame: ChartFrame,
  lines: ChartLine[],
  range: Range,
  config: Config,
  context: ChartContext,
  server: string | undefined,
): PlannedChart {
  const first = group[0]!;
  const { from, to, since } = frame;
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
      to,
      buckets: COLUMNS,
      tickFormat: range.tickFormat,
      lines,
      thresholds: chartThresholds(config, first.metric, first.labels, server),
      shades: shadesOf(group, context, server === undefined, to),
      reboots: [...new Set(group.flatMap((s) => context.reboots.get(s.server) ?? []))],
    },
  };
}

/** The lines of a chart named but not drawn: what its page's figure needs of them (the legend). */
const namesOnly = (group: readonly SeriesHead[]): ChartLine[] =>
  group.map((s) => ({ name: s.server, runs: [], columns: [] }));

/** The chart with these lines drawn. */
export const withLines = (chart: PlannedChart, lines: ChartLine[]): PlannedChart => ({
  ...chart,
  spec: { ...chart.spec, lines },
});

/** A chart with its lines named only, the series it is drawn from and the frame they are drawn in. */
export interface ChartDraft<S> {
  chart: PlannedChart;
  series: S;
  frame: ChartFrame;
}

/**
 * The charts of one server over one range, one per series in catalogue order, their lines not drawn
 * yet (withLines, chartLine): a chart kept from an earlier run needs none. `first` is when a series starts.
 */
export function draftServerCharts<S extends SeriesHead>(
  serverSeries: readonly S[],
  first: (series: S) => number,
  range: Range,
  config: Config,
  now: number,
  context: ChartContext,
): ChartDraft<S>[] {
  return [...serverSeries].sort(compareSeries).map((series) => {
    const phase = range.step === undefined ? 0 : (context.stepPhase?.(series.server, range.step) ?? 0);
    const frame = frameOf(first(series), range, now, BUCKETS_PER_LINE, phase);
    return {
      series,
      frame,
      chart: chartOf([series], frame, namesOnly([series]), range, config, context, series.server),
    };
  });
}

/**
 * The charts of one server over one range, one per series in catalogue order, drawn from whole
 * series: what ams-graphs' drawing from windows of compact series must equal (the tests' reference).
 */
export function planServerCharts(
  serverSeries: readonly Series[],
  range: Range,
  config: Config,
  now: number,
  context: ChartContext,
): PlannedChart[] {
  return draftServerCharts(serverSeries, (s) => s.points[0]?.t ?? Infinity, range, config, now, context).map(
    ({ chart, series, frame }) => withLines(chart, [chartLine(lineSource(series), frame)]),
  );
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

/** The combined chart of a group over `range` in its fleetFrame, its lines named only (withLines draws them). */
export function draftFleetChart(
  group: readonly SeriesHead[],
  frame: ChartFrame,
  range: Range,
  config: Config,
  context: ChartContext,
): PlannedChart {
  return chartOf(group, frame, namesOnly(group), range, config, context, undefined);
}

/** The combined charts over one range, one per metric + labels with a line per server, from whole series (as planServerCharts). */
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
    const lines = group.map((series) => chartLine(lineSource(series), frame));
    return withLines(draftFleetChart(group, frame, range, config, context), lines);
  });
}
