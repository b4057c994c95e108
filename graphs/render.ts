import fs from "node:fs/promises";
import path from "node:path";
import type { Job } from "../config/job.js";
import { failRunWith } from "../lib/cli.js";
import { installDir } from "../lib/paths.js";
import { readAlertHistory, type AlertEvent } from "../storage/alert-history.js";
import { readFiringAlerts } from "../storage/alert-state.js";
import { readFleet } from "../storage/fleet.js";
import { neverReported, readPullStatus } from "../storage/pull-status.js";
import { loadChartRenderer } from "./chart.js";
import { planCharts, type ChartFilter } from "./charts.js";
import { buildDashboard, EVENT_METRICS } from "./dashboard.js";
import { renderIndexPage, renderServerPage } from "./pages.js";
import { publishFiles, removeStale } from "./publish.js";
import { buildSeries } from "./series.js";

export interface RenderSummary {
  pages: number;
  charts: number;
  /** Bytes of the largest SVG written. */
  largestChart: number;
  /** Files of servers no longer in the data, removed. */
  removed: number;
  /** Sources that could not be read: their servers' pages were left as they were (a failed run). */
  unreadable: string[];
}

/** The stylesheet and icon shipped with the sources (graphs/assets/), copied into public/. */
const ASSETS = path.join(installDir, "graphs", "assets");

/** Keys of the firing alerts a silence or a maintenance window holds now, as the last ams-alert run left them. */
async function silencedKeys(job: Job): Promise<Set<string>> {
  try {
    return new Set((await readFiringAlerts(job.paths)).filter((a) => a.silenced).map((a) => a.key));
  } catch (err) {
    job.log.warn(`silences not shown: ${(err as Error).message}`);
    return new Set();
  }
}

async function alertHistory(job: Job): Promise<AlertEvent[]> {
  try {
    const { events, skipped } = await readAlertHistory(job.paths.alertsLog);
    if (skipped > 0) job.log.warn(`${job.paths.alertsLog}: ${skipped} entries skipped (not alert events)`);
    // The latest event of an alert silenced now carries the mark, whatever it was when recorded.
    const silenced = await silencedKeys(job);
    const latest = new Map(events.map((e, i) => [e.key, i]));
    return events.map((e, i) => (silenced.has(e.key) && latest.get(e.key) === i ? { ...e, silenced: true } : e));
  } catch (err) {
    // The pages still show the servers when the alert history cannot be read.
    job.log.warn(`alert history not shown: ${(err as Error).message}`);
    return [];
  }
}

/**
 * Renders the dashboard into public/: the charts of `filter` (all by default), then the pages that
 * show them. A full run also removes the pages and charts of servers no longer in the data.
 */
export async function renderSite(job: Job, filter: ChartFilter = {}, now = new Date()): Promise<RenderSummary> {
  const { paths, config, log } = job;
  const [fleet, pulls] = await Promise.all([readFleet(paths, config), readPullStatus(paths, failRunWith(log))]);
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
    alerts: await alertHistory(job),
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
  const planned = planCharts(series, config, now.getTime());
  const toRender = planned.filter(
    (c) => (!filter.range || c.range === filter.range) && (filter.server === undefined || c.server === filter.server),
  );

  const files: [string, string][] = [];
  if (toRender.length > 0) {
    const renderer = await loadChartRenderer();
    for (const chart of toRender) files.push([chart.file, renderer.render(chart.spec)]);
  }
  const largestChart = files.reduce((largest, [, svg]) => Math.max(largest, Buffer.byteLength(svg)), 0);
  const chartCount = files.length;
  for (const asset of await fs.readdir(ASSETS))
    files.push([asset, await fs.readFile(path.join(ASSETS, asset), "utf8")]);
  for (const server of dashboard.servers) {
    if (filter.server !== undefined && server.name !== filter.server) continue;
    files.push([
      server.page,
      renderServerPage(
        dashboard,
        server,
        planned.filter((c) => c.server === server.name),
      ),
    ]);
  }
  files.push([
    "index.html",
    renderIndexPage(
      dashboard,
      planned.filter((c) => c.server === undefined),
    ),
  ]);
  await publishFiles(paths.publicDir, files);

  let removed = 0;
  // A server missing from the data because its source could not be read is not gone: its pages stay.
  if (!filter.range && filter.server === undefined && unreadable.length === 0) {
    const keep = new Set(files.map(([rel]) => path.normalize(rel)));
    removed =
      (await removeStale(paths.publicDir, "charts", keep)) + (await removeStale(paths.publicDir, "servers", keep));
  }
  const pages = files.filter(([rel]) => rel.endsWith(".html")).length;
  log.info(`rendered ${pages} pages and ${chartCount} charts${removed ? `, removed ${removed} stale files` : ""}`);
  return { pages, charts: chartCount, largestChart, removed, unreadable };
}
