import type { AlertEvent } from "../storage/alert-history.js";
import type { ActiveAlert } from "../storage/alert-state.js";
import { DISK_STATUS, DISK_STATUS_METRIC } from "../storage/disk-status.js";
import { formatValue } from "../storage/format-value.js";
import type { Sample } from "../storage/sample.js";
import { lineColour } from "./chart.js";
import type { PlannedChart } from "./charts.js";
import { metricTitle } from "./charts.js";
import {
  fleetPage,
  RECENT_ALERTS,
  serverRangePage,
  topProcesses,
  type Dashboard,
  type ProcessRow,
  type ServerView,
} from "./dashboard.js";
import { sparkline, type Headline } from "./headlines.js";
import { html, Html } from "./html.js";
import { DEFAULT_RANGE, type Range } from "./ranges.js";
import { localTime, shortTime, zoneNote } from "./time-text.js";

/**
 * A name from data (server, source, metric, message) isolated from the text around it: a
 * right-to-left override inside it cannot reverse what follows on the page.
 */
const isolated = (text: string) => html`<bdi>${text}</bdi>`;

/** Bidirectional controls, taken out of the page title (plain text, where <bdi> cannot go). */
const BIDI_CONTROLS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

const time = (at: string | Date) =>
  html`<time datetime="${typeof at === "string" ? at : at.toISOString()}">${localTime(at)}</time>`;

/** "3 h 12 min ago", to the minute. */
function ago(at: string, now: Date): string {
  const seconds = (now.getTime() - Date.parse(at)) / 1000;
  return seconds < 60 ? "under a minute ago" : `${formatValue(Math.floor(seconds / 60) * 60, "s")} ago`;
}

/** The page frame; `root` leads back to public/ from the page ("" or "../"). */
function page(title: string, root: string, dashboard: Dashboard, body: Html, nav: Html | string = ""): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="${dashboard.refreshSeconds}">
<title>${title.replace(BIDI_CONTROLS, "")} · AMS</title>
<link rel="stylesheet" href="${root}style.css">
<link rel="icon" href="${root}favicon.svg" type="image/svg+xml">
</head>
<body>
<header>
<h1><a href="${root}index.html">AMS</a> · ${isolated(title)}</h1>
<p class="generated">Generated ${time(dashboard.generatedAt)} · times in ${zoneNote(dashboard.generatedAt)} · sizes in binary units (1 KiB = 1024 B) · reloads every ${Math.round(dashboard.refreshSeconds / 60) || 1} min</p>
${nav}
</header>
<main>
${body}
</main>
</body>
</html>
`.text;
}

const STATUS_TEXT: Record<ServerView["status"], string> = {
  ok: "ok",
  pending: "pending",
  warning: "warning",
  critical: "critical",
  silent: "silent",
  waiting: "waiting",
  never: "never reported",
  silenced: "silenced",
};
const statusBadge = (status: ServerView["status"]) =>
  html`<span class="status status-${status}">${STATUS_TEXT[status]}</span>`;

/** The range tabs, the same on every range page; the current one is not a link. */
function rangeTabs(ranges: readonly Range[], current: Range["name"], href: (range: Range) => string): Html {
  return html`<nav class="tabs" aria-label="Time range">${ranges.map((r) =>
    r.name === current
      ? html`<span class="tab current" aria-current="page">${r.name}</span>`
      : html`<a class="tab" href="${href(r)}">${r.name}</a>`,
  )}</nav>`;
}

/** One chart: caption (title, note, CSV link), the inline SVG, and a legend when it has several lines or shaded periods. */
function chartFigure(chart: PlannedChart, svg: string, root: string, now: number): Html {
  const { spec } = chart;
  const caption = spec.title.replace(/, last .*$/, "");
  const legend =
    spec.lines.length > 1 || spec.shades.length > 0 || spec.reboots.some((r) => r >= spec.from)
      ? html`<ul class="legend">${spec.lines.length > 1 ? spec.lines.map((l, i) => html`<li class="${lineColour(i)}"><bdi>${l.name}</bdi></li>`) : ""}${spec.shades.length > 0 ? html`<li class="shaded"><span class="swatch-firing"></span> alert firing (${[...new Set(spec.shades.map((s) => s.label))].join(", ")})</li>` : ""}</ul>`
      : "";
  return html`<figure class="chart-figure" id="${chart.id}">
<figcaption><span class="chart-title"><bdi>${caption}</bdi></span>${chart.collectingSince !== undefined ? html` <span class="note">collecting since ${shortTime(chart.collectingSince, now)}</span>` : ""} <a class="csv" href="${root}${chart.csv}">CSV</a></figcaption>
${new Html(svg)}${legend}
</figure>`;
}

function chartGrid(
  charts: readonly PlannedChart[],
  svgs: ReadonlyMap<PlannedChart, string>,
  root: string,
  now: number,
): Html {
  if (charts.length === 0) return html`<p class="none">No data yet.</p>`;
  return html`<div class="charts">${charts.map((c) => chartFigure(c, svgs.get(c) ?? "", root, now))}</div>`;
}

/** A server's name, linked to its page when it has one (an alert may name a server with no samples). */
function serverLink(dashboard: Dashboard, name: string, root: string): Html {
  const target = dashboard.servers.find((s) => s.name === name)?.page;
  return target ? html`<a href="${root}${target}">${isolated(name)}</a>` : isolated(name);
}

/** "fires in ~8 min if it holds" for a pending alert. */
function pendingNote(a: ActiveAlert, now: Date): string {
  const since = a.since ? Date.parse(a.since) : NaN;
  if (!Number.isFinite(since)) return "fires if it holds";
  const left = (since + a.for * 1000 - now.getTime()) / 1000;
  return left >= 60
    ? `fires in ~${formatValue(Math.round(left / 60) * 60, "s")} if it holds`
    : "fires at the next check if it holds";
}

/** The alerts firing and pending (the alert state), firing first. */
function activeTable(alerts: readonly ActiveAlert[], dashboard: Dashboard, root: string, showServer: boolean): Html {
  if (alerts.length === 0) return html`<p class="none">No alert firing or pending.</p>`;
  const now = dashboard.generatedAt;
  return html`<div class="scroll"><table class="active-alerts">
<thead><tr><th>State</th>${showServer ? html`<th>Server</th>` : ""}<th>Rule</th><th>Value</th><th>Since</th></tr></thead>
<tbody>${alerts.map(
    (a) =>
      html`<tr class="alert-${a.status}" data-key="${a.key}"><td><span class="status status-${a.status === "firing" ? a.severity : "pending"}">${a.status === "firing" ? a.severity : "pending"}</span>${a.silenced ? html` <span class="silenced">silenced</span>` : ""}</td>${showServer ? html`<td>${serverLink(dashboard, a.server_id, root)}</td>` : ""}<td>${a.rule} (${a.op} ${formatValue(a.threshold, a.unit)})</td><td>${formatValue(a.value, a.unit)}</td><td>${a.since ? html`${time(a.since)}` : ""}${a.status === "pending" ? html`<br><span class="note">${pendingNote(a, now)}</span>` : ""}</td></tr>`,
  )}</tbody></table></div>`;
}

/** Alert history events as a table, newest first. */
function eventTable(
  events: readonly AlertEvent[],
  emptyText: string,
  dashboard: Dashboard,
  root: string,
  showServer: boolean,
): Html {
  if (events.length === 0) return html`<p class="none">${emptyText}</p>`;
  return html`<div class="scroll"><table class="events">
<thead><tr><th>When</th>${showServer ? html`<th>Server</th>` : ""}<th>Event</th><th>Message</th></tr></thead>
<tbody>${events.map(
    (e) =>
      html`<tr><td>${time(e.at)}</td>${showServer ? html`<td>${serverLink(dashboard, e.server_id, root)}</td>` : ""}<td><span class="status status-${e.event === "resolved" ? "ok" : e.severity}">${e.event}</span>${e.silenced ? html` <span class="silenced">silenced</span>` : ""}</td><td>${isolated(e.message)}</td></tr>`,
  )}</tbody></table></div>`;
}

/** An advisory link only when it is http(s): a feed cannot smuggle a javascript: URL into the page. */
function advisoryLink(title: string, link: string): Html {
  return /^https?:\/\//i.test(link)
    ? html`<a href="${link}" rel="noopener noreferrer">${isolated(title)}</a>`
    : isolated(title);
}

function figure(h: Headline, now: number): Html {
  return html`<li><span class="metric"><bdi>${h.title}</bdi></span> <span class="value">${formatValue(h.value, h.unit)}</span>${new Html(sparkline(h, now))}</li>`;
}

/** A server's card on the index: status, age of its last sample, headline figures with 24-hour sparklines. */
function serverCard(s: ServerView, headlines: readonly Headline[], dashboard: Dashboard): Html {
  const now = dashboard.generatedAt;
  const firing = s.alerts.filter((a) => a.status === "firing").length;
  const pending = s.alerts.length - firing;
  const alertsLine =
    s.alerts.length === 0
      ? ""
      : html`<p class="card-alerts">${firing > 0 ? `${firing} firing` : ""}${firing > 0 && pending > 0 ? ", " : ""}${pending > 0 ? `${pending} pending` : ""}: ${s.alerts.map((a) => a.rule).join(", ")}</p>`;
  const body =
    s.lastSeen === undefined
      ? html`<p class="card-seen">No copy received yet.</p>${s.pullError ? html`<p class="error">Last pull: ${s.pullError}</p>` : ""}`
      : html`<p class="card-seen">Last sample <time datetime="${s.lastSeen}">${shortTime(Date.parse(s.lastSeen), now.getTime())}</time>, ${ago(s.lastSeen, now)}</p>${alertsLine}<ul class="figures">${headlines.map((h) => figure(h, now.getTime()))}</ul>${s.pullError ? html`<p class="error">Last pull: ${s.pullError}</p>` : ""}`;
  return html`<article class="card card-${s.status}"><h3><a href="${s.page}"><bdi>${s.name}</bdi></a> ${statusBadge(s.status)}</h3>${body}</article>`;
}

export function renderIndexPage(
  dashboard: Dashboard,
  headlines: ReadonlyMap<string, readonly Headline[]>,
  ranges: readonly Range[],
): string {
  const servers =
    dashboard.servers.length === 0
      ? html`<p class="none">No samples yet: run <code>ams-sensor all</code>.</p>`
      : html`<div class="cards">${dashboard.servers.map((s) => serverCard(s, headlines.get(s.name) ?? [], dashboard))}</div>`;
  const advisories =
    dashboard.advisories.length === 0
      ? html`<p class="none">No CERT advisories stored.</p>`
      : html`<ul class="advisories">${dashboard.advisories.map((a) => html`<li>${time(a.published)} ${advisoryLink(a.title, a.link)}${a.id ? html` <span class="id">${a.id}</span>` : ""}</li>`)}</ul>`;
  // A remote's row says when it was last pulled and why the last pull failed; its charts keep the last
  // good copy. Records it sent for servers it may not speak for are named: a misnamed remote shows here.
  const sources = html`<div class="scroll"><table class="sources">
<thead><tr><th>Source</th><th>File</th><th>Samples</th><th>Skipped</th><th>Last pull</th><th>Last good copy</th><th>Error</th></tr></thead>
<tbody>${dashboard.sources.map((s) => {
    const error = s.pull?.last_error ?? s.error;
    const foreign = s.pull?.foreign_records
      ? html` <span class="error">${s.pull.foreign_records} records naming other servers skipped (${(s.pull.foreign_servers ?? []).join(", ")})</span>`
      : "";
    return html`<tr><td>${isolated(s.name)}</td><td><code>${s.file}</code></td><td>${s.samples}</td><td>${s.skipped + (s.foreign ?? 0)}${foreign}</td><td>${s.pull ? time(s.pull.last_attempt) : "—"}</td><td>${s.pull?.last_success ? time(s.pull.last_success) : "—"}</td><td>${error ? html`<span class="error">${error}</span>` : "none"}</td></tr>`;
  })}</tbody></table></div>`;
  const unreadable = dashboard.sources.filter((s) => s.error !== undefined);
  const blind =
    unreadable.length === 0
      ? ""
      : html`<p class="error" id="unreadable">Source unreadable: ${unreadable.map((s) => s.name).join(", ")}. Its servers are missing here and their pages show the last good data; see <a href="#sources">Sources</a>.</p>`;
  return page(
    "Fleet",
    "",
    dashboard,
    html`${blind}<section id="servers"><h2>Servers</h2>${servers}</section>
<section id="alerts"><h2>Alerts firing and pending</h2>${activeTable(dashboard.alerts, dashboard, "", true)}</section>
<section id="events"><h2>Recent alert events</h2>${eventTable(dashboard.history.slice(0, RECENT_ALERTS), "No alerts recorded.", dashboard, "", true)}</section>
<section id="fleet-charts"><h2>Charts of all servers</h2><p class="range-links">${ranges.map((r, i) => html`${i > 0 ? " · " : ""}<a href="${fleetPage(r.name)}">${r.label}</a>`)}</p></section>
<section id="cert"><h2>Latest CERT advisories</h2>${advisories}</section>
<section id="sources"><h2>Sources</h2>${sources}</section>`,
  );
}

/** charts/<range>.html: the combined chart of every metric over one range. */
export function renderFleetPage(
  dashboard: Dashboard,
  range: Range,
  ranges: readonly Range[],
  charts: readonly PlannedChart[],
  svgs: ReadonlyMap<PlannedChart, string>,
): string {
  return page(
    `All servers, ${range.label}`,
    "../",
    dashboard,
    html`<section id="charts">${chartGrid(charts, svgs, "../", dashboard.generatedAt.getTime())}</section>`,
    rangeTabs(ranges, range.name, (r) => `../${fleetPage(r.name)}`),
  );
}

function processTable(caption: string, rows: readonly ProcessRow[]): Html {
  if (rows.length === 0) return html`<p class="none">${caption}: none recorded.</p>`;
  return html`<div class="scroll"><table><caption>${caption}</caption>
<thead><tr><th>Name</th><th>PID</th><th>CPU</th><th>Memory</th></tr></thead>
<tbody>${rows.map((p) => html`<tr><td>${isolated(p.name)}</td><td>${p.pid}</td><td>${formatValue(p.cpu_percent, "%")}</td><td>${formatValue(p.rss_bytes, "B")}</td></tr>`)}</tbody></table></div>`;
}

const detail = (sample: Sample, key: string) =>
  typeof sample.details?.[key] === "string" ? sample.details[key] : undefined;

/** One row per mount: its last Disk sample, and its disk_status when that is newer (a mount that hangs or fails). */
function diskRows(latest: readonly Sample[]): { mount: string; usage?: Sample; status?: Sample }[] {
  const rows = new Map<string, { mount: string; usage?: Sample; status?: Sample }>();
  const row = (mount: string) => rows.get(mount) ?? rows.set(mount, { mount }).get(mount)!;
  for (const s of latest) if (s.metric_type === "Disk") row(s.labels?.mount ?? "").usage = s;
  for (const s of latest) {
    if (s.metric_type !== DISK_STATUS_METRIC) continue;
    const usage = rows.get(s.labels?.mount ?? "")?.usage;
    if (s.value !== DISK_STATUS.ok && (!usage || Date.parse(s.timestamp) >= Date.parse(usage.timestamp)))
      row(s.labels?.mount ?? "").status = s;
  }
  return [...rows.values()];
}

function diskState(status: Sample | undefined): Html {
  if (!status) return html`answering`;
  const since = detail(status, "since");
  const error = detail(status, "error");
  return html`<span class="error">${detail(status, "status") ?? "not measured"}${since ? html` since ${time(since)}` : ""}${error ? html`: ${error}` : ""}</span>`;
}

function latestValues(latest: readonly Sample[]): Html {
  return html`<ul class="values">${latest.map((s) => html`<li><span class="metric">${isolated(metricTitle({ metric: s.metric_type, labels: s.labels ?? {} }))}</span> ${formatValue(s.value, s.unit)}</li>`)}</ul>`;
}

/**
 * servers/<name>.html (24 hours) and servers/<name>.<range>.html: the server's state, its alerts
 * and its charts over one range; the default page adds disks, top processes and the alert history.
 */
export function renderServerPage(
  dashboard: Dashboard,
  server: ServerView,
  range: Range,
  ranges: readonly Range[],
  charts: readonly PlannedChart[],
  svgs: ReadonlyMap<PlannedChart, string>,
): string {
  const now = dashboard.generatedAt;
  const full = range.name === DEFAULT_RANGE;
  const summary = html`<section id="summary"><h2>Now</h2><p class="now-line">${statusBadge(server.status)} last sample ${server.lastSeen ? html`${time(server.lastSeen)} (${ago(server.lastSeen, now)})` : "never"}</p>${server.pullError ? html`<p class="error">Last pull: ${server.pullError}</p>` : ""}${latestValues(server.latest)}${server.reboots.length > 0 ? html`<p class="reboots">Rebooted at ${server.reboots.map((boot, i) => html`${i > 0 ? ", " : ""}${time(boot)}`)}</p>` : ""}</section>
<section id="alerts"><h2>Alerts firing and pending</h2>${activeTable(server.alerts, dashboard, "../", false)}</section>`;
  const chartSection = html`<section id="charts"><h2>Charts, ${range.label}</h2>${chartGrid(charts, svgs, "../", now.getTime())}</section>`;
  let details: Html | string = "";
  if (full) {
    const disks = diskRows(server.latest);
    const processes = server.latest.find((s) => s.metric_type === "Processes");
    const history = dashboard.history.filter((e) => e.server_id === server.name);
    const diskTable =
      disks.length === 0
        ? html`<p class="none">No disk samples.</p>`
        : html`<div class="scroll"><table>
<thead><tr><th>Mount</th><th>Used</th><th>Type</th><th>Measured</th><th>State</th></tr></thead>
<tbody>${disks.map(({ mount, usage, status }) => {
            const info = usage ?? status!;
            return html`<tr><td>${isolated(mount)}</td><td>${usage ? formatValue(usage.value, usage.unit) : "—"}</td><td>${detail(info, "fs_type") ?? ""}</td><td>${usage ? time(usage.timestamp) : "never"}</td><td>${diskState(status)}</td></tr>`;
          })}</tbody></table></div>`;
    details = html`<section id="disks"><h2>Disks</h2>${diskTable}</section>
<section id="processes"><h2>Top processes</h2>${processes ? html`<p>Measured ${time(processes.timestamp)}.</p>` : ""}${processTable("By CPU", topProcesses(processes, "top_cpu"))}${processTable("By memory", topProcesses(processes, "top_memory"))}</section>
<section id="history"><h2>Alert history</h2>${eventTable(history, "No alerts recorded for this server.", dashboard, "../", false)}</section>`;
  }
  return page(
    server.name,
    "../",
    dashboard,
    html`${summary}
${chartSection}
${details}`,
    rangeTabs(ranges, range.name, (r) => `../${serverRangePage(server.name, r.name)}`),
  );
}
