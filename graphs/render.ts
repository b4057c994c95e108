import fs from "node:fs/promises";
import path from "node:path";
import { readAlertHistory, type AlertEvent } from "../storage/alert-history.js";
import { readActiveAlerts, type ActiveAlert } from "../storage/alert-state.js";
import type { Job } from "../config/job.js";
import { failRunWith } from "../lib/cli.js";
import { installDir } from "../lib/paths.js";
import { readFleet } from "../storage/fleet.js";
import { neverReported, readPullStatus } from "../storage/pull-status.js";
import { firingPeriods } from "./alert-periods.js";
import { loadChartRenderer, type ChartRenderer } from "./chart.js";
import { chartCsv } from "./chart-csv.js";
import { planFleetCharts, planServerCharts, type ChartContext, type PlannedChart } from "./charts.js";
import { buildDashboard, EVENT_METRICS, fleetPage, rebootsByServer, serverRangePage } from "./dashboard.js";
import { headlines } from "./headlines.js";
import { renderFleetPage, renderIndexPage, renderServerPage } from "./pages.js";
import { publishFiles, removeStale } from "./publish.js";
import { rangesFor, type RangeName } from "./ranges.js";
import { buildSeries, type Series } from "./series.js";

export interface ChartFilter {
  range?: RangeName;
  server?: string;
}

export interface RenderSummary {
  pages: number;
  charts: number;
  /** Bytes of the largest chart (an SVG inlined in a page) and of the largest page. */
  largestChart: number;
  largestPage: number;
  /** Files of servers no longer in the data, removed. */
  removed: number;
  /** Sources that could not be read: their servers' pages were left as they were (a failed run). */
  unreadable: string[];
}

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

/** Renders the charts of one page: each SVG once, and its buckets as CSV. */
function renderCharts(
  renderer: ChartRenderer,
  charts: readonly PlannedChart[],
  files: [string, string][],
  sizes: number[],
): Map<PlannedChart, string> {
  const svgs = new Map<PlannedChart, string>();
  for (const chart of charts) {
    const svg = renderer.render(chart.spec);
    sizes.push(Buffer.byteLength(svg));
    svgs.set(chart, svg);
    files.push([chart.csv, chartCsv(chart.spec, chart.server === undefined)]);
  }
  return svgs;
}

/**
 * Renders the dashboard into public/: for each range, the fleet page and every server's page with
 * their charts inlined, then the index. `filter` renders one range or one server (and the index).
 * A full run also removes the pages and data of servers no longer in the data.
 */
export async function renderSite(job: Job, filter: ChartFilter = {}, now = new Date()): Promise<RenderSummary> {
  const { paths, config, log } = job;
  const [fleet, pulls, history, active] = await Promise.all([
    readFleet(paths, config),
    readPullStatus(paths, failRunWith(log)),
    alertHistory(job),
    activeAlerts(job),
  ]);
  const unreadable = fleet.sources.filter((s) => s.error !== undefined).map((s) => s.name);
  for (const source of fleet.sources) {
    if (source.error)
      log.error(`cannot read ${source.name}, its servers' pages are left as they were: ${source.error}`);
    if (source.skipped > 0)
      log.warn(`${source.file}: ${source.skipped} records skipped (neither AMS nor original AMS form)`);
  }
  const series = buildSeries(fleet.samples, EVENT_METRICS);
  if (filter.server !== undefined && !series.some((s) => s.server === filter.server)) {
    throw new Error(`no samples of server "${filter.server}"`);
  }
  const dashboard = buildDashboard({
    samples: fleet.samples,
    history,
    active,
    // Paths relative to the data home: the page need not show where AMS is installed.
    sources: fleet.sources.map((source) => ({
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
      fleet.sources,
      pulls,
    ),
  });
  const at = now.getTime();
  const byServer = new Map<string, Series[]>();
  for (const s of series) byServer.set(s.server, [...(byServer.get(s.server) ?? []), s]);
  const oldest = series.reduce((o, s) => Math.min(o, s.points[0]?.t ?? Infinity), Infinity);
  const ranges = rangesFor(oldest, at);
  const context: ChartContext = {
    periods: firingPeriods(history, new Set(active.filter((a) => a.status === "firing").map((a) => a.key)), at),
    reboots: new Map(
      [...rebootsByServer(fleet.samples, Infinity)].map(([server, boots]) => [server, boots.map((b) => Date.parse(b))]),
    ),
  };

  const files: [string, string][] = [];
  const pages: [string, string][] = [];
  const chartSizes: number[] = [];
  const renderer = series.length > 0 ? await loadChartRenderer() : undefined;
  for (const range of ranges) {
    if (filter.range && range.name !== filter.range) continue;
    if (filter.server === undefined) {
      const charts = renderer ? planFleetCharts(series, range, config, at, context) : [];
      const svgs = renderer ? renderCharts(renderer, charts, files, chartSizes) : new Map();
      pages.push([fleetPage(range.name), renderFleetPage(dashboard, range, ranges, charts, svgs)]);
    }
    for (const server of dashboard.servers) {
      if (filter.server !== undefined && server.name !== filter.server) continue;
      const charts = renderer ? planServerCharts(byServer.get(server.name) ?? [], range, config, at, context) : [];
      const svgs = renderer ? renderCharts(renderer, charts, files, chartSizes) : new Map();
      pages.push([
        serverRangePage(server.name, range.name),
        renderServerPage(dashboard, server, range, ranges, charts, svgs),
      ]);
    }
  }
  for (const asset of await fs.readdir(ASSETS))
    files.push([asset, await fs.readFile(path.join(ASSETS, asset), "utf8")]);
  const cards = new Map(dashboard.servers.map((s) => [s.name, headlines(byServer.get(s.name) ?? [], at)]));
  pages.push(["index.html", renderIndexPage(dashboard, cards, ranges)]);
  // Data and assets before the pages that link them.
  await publishFiles(paths.publicDir, [...files, ...pages]);

  let removed = 0;
  // A server missing from the data because its source could not be read is not gone: its pages stay.
  if (!filter.range && filter.server === undefined && unreadable.length === 0) {
    const keep = new Set([...files, ...pages].map(([rel]) => path.normalize(rel)));
    for (const dir of ["charts", "servers", "data"]) removed += await removeStale(paths.publicDir, dir, keep);
  }
  const largestChart = chartSizes.reduce((a, b) => Math.max(a, b), 0);
  const largestPage = pages.reduce((a, [, text]) => Math.max(a, Buffer.byteLength(text)), 0);
  log.info(
    `rendered ${pages.length} pages and ${chartSizes.length} charts${removed ? `, removed ${removed} stale files` : ""}`,
  );
  return { pages: pages.length, charts: chartSizes.length, largestChart, largestPage, removed, unreadable };
}
