import fs from "node:fs/promises";
import path from "node:path";
import { readAlertHistory, type AlertEvent } from "../storage/alert-history.js";
import { readActiveAlerts, type ActiveAlert } from "../storage/alert-state.js";
import type { Job } from "../config/job.js";
import { failRunWith } from "../lib/run-outcome.js";
import { collectBetweenSteps } from "../lib/heap.js";
import { installDir } from "../lib/paths.js";
import { neverReported, readPullStatus } from "../storage/pull-status.js";
import { firingPeriods } from "./alert-periods.js";
import { loadChartRenderer, type ChartLine, type ChartRenderer } from "./chart.js";
import { ChartCache, drawChart, type PageCharts } from "./chart-cache.js";
import {
  chartLine,
  draftFleetChart,
  draftServerCharts,
  fleetFrame,
  fleetGroups,
  withLines,
  type ChartContext,
  type ChartFrame,
  type PlannedChart,
} from "./charts.js";
import { buildDashboard, fleetPage, rebootsByServer, serverRangePage } from "./dashboard.js";
import { columnsFrom, FleetDigest, lineFrom, windowBytes, type CompactSeries } from "./fleet-digest.js";
import { headlines, headlinesFrom, type Headline } from "./headlines.js";
import { renderFleetPage, renderIndexPage, renderServerPage } from "./pages.js";
import { digestFleet, type FleetReads } from "./series-cache.js";
import { publishFiles, removeStale } from "./publish.js";
import { rangesFor, stepPhase, type RangeName } from "./ranges.js";

export interface ChartFilter {
  range?: RangeName;
  server?: string;
}

export interface RenderSummary {
  pages: number;
  charts: number;
  /** Charts of them taken as an earlier run drew them from the same points, not drawn again. */
  reused: number;
  /** Bytes of the largest chart (an SVG inlined in a page) and of the largest page. */
  largestChart: number;
  largestPage: number;
  /** Files of servers no longer in the data, removed. */
  removed: number;
  /** Sources that could not be read: their servers' pages were left as they were (a failed run). */
  unreadable: string[];
  /** How the stores were read: only what was appended since the last run, or whole. */
  reads: FleetReads;
}

/** Heap growth between full collections: about one large store's records, parsed. */
const HEAP_GROWTH = 64 * 1024 * 1024;

/** The stylesheet and icon shipped with the sources (graphs/assets/), copied into public/. */
const ASSETS = path.join(installDir, "graphs", "assets");

async function alertHistory(job: Job): Promise<AlertEvent[]> {
  try {
    const { events, skipped } = await readAlertHistory(job.paths.alertsLog);
    if (skipped > 0) job.log.warn(`${job.paths.alertsLog}: ${skipped} entries skipped (not alert events)`);
    return events;
  } catch (err) {
    // The pages still show the servers when the alert history cannot be read.
    job.log.warn(`alert history not shown: ${(err as Error).message}`);
    return [];
  }
}

async function activeAlerts(job: Job): Promise<ActiveAlert[]> {
  try {
    return await readActiveAlerts(job.paths);
  } catch (err) {
    job.log.warn(`alert state not shown: ${(err as Error).message}`);
    return [];
  }
}

/** A chart to draw: named (its page's figure), with what its lines are drawn from and how to draw them. */
interface ChartWork {
  draft: PlannedChart;
  frame: ChartFrame;
  /** Per line, the bytes of the points it is drawn from (windowBytes): a kept chart's key. */
  inputs: () => Uint8Array[][];
  lines: () => ChartLine[];
}

/** The rendered charts of one page, each SVG once, and its buckets as CSV files. */
interface RenderedCharts {
  svgs: Map<PlannedChart, string>;
  /** The CSV files to write; a reused chart's CSV already in public/ is not among them. */
  csvs: [string, string][];
  /** Every chart's CSV, relative to public/: written now or earlier, all of them kept. */
  csvFiles: string[];
  reused: number;
}

/**
 * Draws the charts of one page, or takes them from the page's kept charts when what they are drawn
 * from did not change. The SVGs are keyed by the drafts: the page needs their names and notes only.
 */
function renderCharts(
  renderer: ChartRenderer | undefined,
  charts: readonly ChartWork[],
  kept: PageCharts | undefined,
): RenderedCharts {
  const rendered: RenderedCharts = { svgs: new Map(), csvs: [], csvFiles: [], reused: 0 };
  if (!renderer) return rendered;
  for (const { draft, frame, inputs, lines } of charts) {
    const drawn = kept
      ? kept.draw(renderer, draft, frame, inputs, lines)
      : drawChart(renderer, withLines(draft, lines()));
    rendered.svgs.set(draft, drawn.svg);
    if (drawn.csv !== undefined) rendered.csvs.push([draft.csv, drawn.csv]);
    rendered.csvFiles.push(draft.csv);
    if (drawn.reused) rendered.reused++;
  }
  return rendered;
}

/** A chart of compact series: each line drawn from the points of its frame only. */
const chartWork = (draft: PlannedChart, frame: ChartFrame, group: readonly CompactSeries[]): ChartWork => ({
  draft,
  frame,
  inputs: () => group.map((s) => windowBytes(s, frame.from, frame.to)),
  lines: () => group.map((s) => chartLine(lineFrom(s, frame.from), frame)),
});

/**
 * The larger of `bytes` and the UTF-8 size of `text`, measured only when it may be larger (a
 * character is at most 3 bytes): measuring every chart of a fleet costs a tenth of a second.
 */
const largerOf = (bytes: number, text: string) =>
  text.length * 3 <= bytes ? bytes : Math.max(bytes, Buffer.byteLength(text));

/** What a run wrote into public/, file by file as it goes, for the summary and the stale-file removal. */
class Site {
  readonly written = new Set<string>();
  pages = 0;
  charts = 0;
  reused = 0;
  largestChart = 0;
  largestPage = 0;

  constructor(private readonly publicDir: string) {}

  charted(rendered: RenderedCharts): void {
    for (const svg of rendered.svgs.values()) {
      this.charts++;
      this.largestChart = largerOf(this.largestChart, svg);
    }
    this.reused += rendered.reused;
    this.files(rendered.csvs);
    for (const rel of rendered.csvFiles) this.written.add(path.normalize(rel));
  }

  files(files: readonly [string, string | Uint8Array][]): void {
    publishFiles(this.publicDir, files);
    for (const [rel] of files) this.written.add(path.normalize(rel));
  }

  page(rel: string, text: string): void {
    // Encoded once, here: writing the text would encode it again to measure it.
    const bytes = Buffer.from(text);
    this.pages++;
    this.largestPage = Math.max(this.largestPage, bytes.length);
    this.files([[rel, bytes]]);
  }
}

/**
 * Renders the dashboard into public/: for each range, the fleet page and every server's page with
 * their charts inlined, then the index. `filter` renders one range or one server (and the index).
 * A full run also removes the pages and data of servers no longer in the data.
 *
 * The raw samples of one source are held at a time: the sources are read one after another into a
 * compact digest (fleet-digest.ts, numbers only: about 0.4 MB per server-week at the default
 * schedule), each from where the last run stopped (series-cache.ts). A chart's lines are made from
 * the points of its window only, and not at all when the chart cache has it as drawn from the
 * same points (chart-cache.ts). Files are written as they are made, data and assets before the
 * pages that link them.
 */
export async function renderSite(job: Job, filter: ChartFilter = {}, now = new Date()): Promise<RenderSummary> {
  const { paths, config, log } = job;
  const digest = new FleetDigest();
  const settle = collectBetweenSteps(HEAP_GROWTH);
  const [{ sources, reads }, pulls, history, active] = await Promise.all([
    digestFleet(paths, config, digest, log, settle),
    readPullStatus(paths, failRunWith(log)),
    alertHistory(job),
    activeAlerts(job),
  ]);
  const unreadable = sources.filter((s) => s.error !== undefined).map((s) => s.name);
  for (const source of sources) {
    if (source.error)
      log.error(`cannot read ${source.name}, its servers' pages are left as they were: ${source.error}`);
    if (source.skipped > 0)
      log.warn(`${source.file}: ${source.skipped} records skipped (neither AMS nor original AMS form)`);
  }
  const series = digest.series();
  if (filter.server !== undefined && !series.some((s) => s.server === filter.server)) {
    throw new Error(`no samples of server "${filter.server}"`);
  }
  const samples = digest.dashboardSamples();
  const dashboard = buildDashboard({
    samples,
    history,
    active,
    // Paths relative to the data home: the page need not show where AMS is installed.
    sources: sources.map((source) => ({
      ...source,
      file: path.relative(paths.home, source.file),
      pull: pulls[source.name],
    })),
    now,
    refreshSeconds: config.graphs.refresh,
    // The same line as the "server silent" alert rule, so the page and the mails agree.
    silentAfterSeconds: config.alerts.silent_after,
    neverReported: neverReported(
      config.remotes.map((r) => r.name),
      sources,
      pulls,
    ),
  });
  const at = now.getTime();
  const byServer = new Map<string, CompactSeries[]>();
  for (const s of series) byServer.set(s.server, [...(byServer.get(s.server) ?? []), s]);
  const oldest = series.reduce((o, s) => Math.min(o, s.t[0] ?? Infinity), Infinity);
  const ranges = rangesFor(oldest, at);
  const shown = ranges.filter((range) => !filter.range || range.name === filter.range);
  const context: ChartContext = {
    stepPhase,
    periods: firingPeriods(history, new Set(active.filter((a) => a.status === "firing").map((a) => a.key)), at),
    reboots: new Map(
      [...rebootsByServer(samples, Infinity)].map(([server, boots]) => [server, boots.map((b) => Date.parse(b))]),
    ),
  };

  const site = new Site(paths.publicDir);
  const assets = await fs.readdir(ASSETS);
  site.files(
    await Promise.all(
      assets.map(async (asset): Promise<[string, string]> => [
        asset,
        await fs.readFile(path.join(ASSETS, asset), "utf8"),
      ]),
    ),
  );
  const renderer = series.length > 0 ? await loadChartRenderer() : undefined;
  const cache = ChartCache.open(paths.stateDir, paths.publicDir, at, (message) => log.warn(message));
  if (filter.server === undefined) {
    // One metric at a time across the fleet; the pages keep the charts without their data.
    const fleet = new Map<RangeName, { charts: PlannedChart[]; svgs: Map<PlannedChart, string>; kept?: PageCharts }>();
    for (const range of shown)
      fleet.set(range.name, { charts: [], svgs: new Map(), kept: await cache?.page(fleetPage(range.name)) });
    for (const group of renderer ? fleetGroups(series) : []) {
      const first = group.reduce((f, s) => Math.min(f, s.t[0] ?? Infinity), Infinity);
      for (const range of shown) {
        const frame = fleetFrame(first, group.length, range, at);
        const draft = draftFleetChart(group, frame, range, config, context);
        const page = fleet.get(range.name)!;
        const rendered = renderCharts(renderer, [chartWork(draft, frame, group)], page.kept);
        site.charted(rendered);
        page.charts.push(draft);
        page.svgs.set(draft, rendered.svgs.get(draft)!);
      }
      settle();
    }
    for (const range of shown) {
      const { charts, svgs, kept } = fleet.get(range.name)!;
      await kept?.save();
      site.page(fleetPage(range.name), renderFleetPage(dashboard, range, ranges, charts, svgs));
    }
  }
  const cards = new Map<string, Headline[]>();
  for (const server of dashboard.servers) {
    const own = byServer.get(server.name) ?? [];
    cards.set(
      server.name,
      headlines(
        own.map((s) => ({ ...s, points: columnsFrom(s, headlinesFrom(s.t[s.t.length - 1]!, at)) })),
        at,
      ),
    );
    if (filter.server !== undefined && server.name !== filter.server) continue;
    for (const range of shown) {
      const page = serverRangePage(server.name, range.name);
      const drafts = renderer ? draftServerCharts(own, (s) => s.t[0] ?? Infinity, range, config, at, context) : [];
      const kept = await cache?.page(page);
      const rendered = renderCharts(
        renderer,
        drafts.map(({ chart, series, frame }) => chartWork(chart, frame, [series])),
        kept,
      );
      site.charted(rendered);
      await kept?.save();
      const charts = drafts.map((d) => d.chart);
      site.page(page, renderServerPage(dashboard, server, range, ranges, charts, rendered.svgs));
    }
    settle();
  }
  site.page("index.html", renderIndexPage(dashboard, cards, ranges));

  let removed = 0;
  // A server missing from the data because its source could not be read is not gone: its pages stay.
  if (!filter.range && filter.server === undefined && unreadable.length === 0) {
    for (const dir of ["charts", "servers", "data"]) removed += await removeStale(paths.publicDir, dir, site.written);
    await cache?.removeUnused();
  }
  const { pages, charts, reused, largestChart, largestPage } = site;
  log.info(
    `rendered ${pages} pages and ${charts} charts (${reused} reused)${removed ? `, removed ${removed} stale files` : ""}`,
  );
  return { pages, charts, reused, largestChart, largestPage, removed, unreadable, reads };
}
