import type { AlertEvent } from "../storage/alert-history.js";
import { isoLocal } from "../lib/time.js";
import { DISK_STATUS, DISK_STATUS_METRIC } from "../storage/disk-status.js";
import { formatValue } from "../storage/format-value.js";
import type { Sample } from "../storage/sample.js";
import type { PlannedChart } from "./charts.js";
import { metricTitle } from "./charts.js";
import { RECENT_ALERTS, topProcesses, type Dashboard, type ProcessRow, type ServerView } from "./dashboard.js";
import { html, type Html } from "./html.js";
import { RANGES } from "./ranges.js";

/** "2026-11-25 14:02" in this machine's local time. */
function localTime(iso: string | Date): string {
  const date = typeof iso === "string" ? new Date(iso) : iso;
  return Number.isNaN(date.getTime()) ? String(iso) : isoLocal(date).slice(0, 16).replace("T", " ");
}

/**
 * A name from data (server, source, metric, message) isolated from the text around it: a
 * right-to-left override inside it cannot reverse what follows on the page.
 */
const isolated = (text: string) => html`<bdi>${text}</bdi>`;

/** Bidirectional controls, taken out of the page title (plain text, where <bdi> cannot go). */
const BIDI_CONTROLS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

const time = (iso: string | Date) =>
  html`<time datetime="${typeof iso === "string" ? iso : iso.toISOString()}">${localTime(iso)}</time>`;

/** The page frame; `root` leads back to public/ from the page ("" or "../"). */
function page(title: string, root: string, dashboard: Dashboard, body: Html): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="${dashboard.refreshSeconds}">
<title>${title.replace(BIDI_CONTROLS, "")}</title>
<link rel="stylesheet" href="${root}style.css">
<link rel="icon" href="${root}favicon.svg" type="image/svg+xml">
</head>
<body>
<header>
<h1><a href="${root}index.html">AMS</a> · ${isolated(title)}</h1>
<p class="generated">Generated ${time(dashboard.generatedAt)}; this page reloads every ${Math.round(dashboard.refreshSeconds / 60) || 1} min.</p>
</header>
<main>
${body}
</main>
</body>
</html>
`.text;
}

const statusBadge = (status: ServerView["status"]) => html`<span class="status status-${status}">${status}</span>`;

function latestValues(latest: readonly Sample[]): Html {
  return html`<ul class="values">${latest.map((s) => html`<li><span class="metric">${isolated(metricTitle({ metric: s.metric_type, labels: s.labels ?? {} }))}</span> ${formatValue(s.value, s.unit)}</li>`)}</ul>`;
}

function chartFigures(charts: readonly PlannedChart[], root: string): Html {
  return html`<div class="charts">${charts.map((c) => html`<figure><img src="${root}${c.file}" alt="${c.alt}" width="720"></figure>`)}</div>`;
}

function chartsByRange(charts: readonly PlannedChart[], root: string): Html {
  return html`${RANGES.map((range) => {
    const inRange = charts.filter((c) => c.range === range.name);
    return inRange.length === 0 ? "" : html`<h3>${range.label}</h3>${chartFigures(inRange, root)}`;
  })}`;
}

/** Alerts as a table; `dashboard` is given to show (and link) the server of each. */
function alertTable(events: readonly AlertEvent[], emptyText: string, dashboard?: Dashboard): Html {
  const showServer = dashboard !== undefined;
  if (events.length === 0) return html`<p class="none">${emptyText}</p>`;
  return html`<div class="scroll"><table>
<thead><tr><th>When</th>${showServer ? html`<th>Server</th>` : ""}<th>Severity</th><th>Event</th><th>Rule</th><th>Message</th></tr></thead>
<tbody>${events.map(
    (e) =>
      html`<tr><td>${time(e.at)}</td>${showServer ? html`<td>${serverLink(dashboard, e.server_id, "")}</td>` : ""}<td><span class="status status-${e.severity}">${e.severity}</span></td><td>${e.event}${e.silenced ? html` <span class="silenced">silenced</span>` : ""}</td><td>${e.rule}</td><td>${isolated(e.message)}</td></tr>`,
  )}</tbody></table></div>`;
}

/** A server's name, linked to its page when it has one (an alert may name a server with no samples). */
function serverLink(dashboard: Dashboard, name: string, root: string): Html {
  const target = dashboard.servers.find((s) => s.name === name)?.page;
  return target ? html`<a href="${root}${target}">${isolated(name)}</a>` : isolated(name);
}

/** An advisory link only when it is http(s): a feed cannot smuggle a javascript: URL into the page. */
function advisoryLink(title: string, link: string): Html {
  return /^https?:\/\//i.test(link)
    ? html`<a href="${link}" rel="noopener noreferrer">${isolated(title)}</a>`
    : isolated(title);
}

export function renderIndexPage(dashboard: Dashboard, combinedCharts: readonly PlannedChart[]): string {
  const servers =
    dashboard.servers.length === 0
      ? html`<p class="none">No samples yet: run <code>ams-sensor all</code>.</p>`
      : html`<div class="scroll"><table class="servers">
<thead><tr><th>Server</th><th>Status</th><th>Last sample</th><th>Latest values</th></tr></thead>
<tbody>${dashboard.servers.map(
          (s) =>
            html`<tr><td><a href="${s.page}">${isolated(s.name)}</a></td><td>${statusBadge(s.status)}</td><td>${s.lastSeen ? time(s.lastSeen) : "never"}</td><td>${latestValues(s.latest)}</td></tr>`,
        )}</tbody></table></div>`;
  const advisories =
    dashboard.advisories.length === 0
      ? html`<p class="none">No CERT advisories stored.</p>`
      : html`<ul class="advisories">${dashboard.advisories.map((a) => html`<li>${time(a.published)} ${advisoryLink(a.title, a.link)}${a.id ? html` <span class="id">${a.id}</span>` : ""}</li>`)}</ul>`;
  // A remote's row says when it was last pulled and why the last pull failed; its charts keep the last
  // good copy. Records it sent for servers it may not speak for are named: a misnamed remote shows here.
  const sources = html`<div class="scroll"><table>
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
<section id="alerts"><h2>Firing alerts</h2>${alertTable(dashboard.firing, "No alerts firing.", dashboard)}
<h2>Recent alerts</h2>${alertTable(dashboard.history.slice(0, RECENT_ALERTS), "No alerts recorded.", dashboard)}</section>
<section id="fleet-charts"><h2>All servers</h2>${combinedCharts.length === 0 ? html`<p class="none">No charts yet.</p>` : chartsByRange(combinedCharts, "")}</section>
<section id="cert"><h2>Latest CERT advisories</h2>${advisories}</section>
<section id="sources"><h2>Sources</h2>${sources}</section>`,
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

export function renderServerPage(dashboard: Dashboard, server: ServerView, charts: readonly PlannedChart[]): string {
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
  return page(
    server.name,
    "../",
    dashboard,
    html`<section id="summary"><h2>Now</h2><p>${statusBadge(server.status)} last sample ${server.lastSeen ? time(server.lastSeen) : "never"}</p>${latestValues(server.latest)}${server.reboots.length > 0 ? html`<p class="reboots">Rebooted at ${server.reboots.map((boot, i) => html`${i > 0 ? ", " : ""}${time(boot)}`)}</p>` : ""}</section>
<section id="alerts"><h2>Firing alerts</h2>${alertTable(server.firing, "No alerts firing.")}</section>
<section id="charts"><h2>Charts</h2>${charts.length === 0 ? html`<p class="none">No charts yet.</p>` : chartsByRange(charts, "../")}</section>
<section id="disks"><h2>Disks</h2>${diskTable}</section>
<section id="processes"><h2>Top processes</h2>${processes ? html`<p>Measured ${time(processes.timestamp)}.</p>` : ""}${processTable("By CPU", topProcesses(processes, "top_cpu"))}${processTable("By memory", topProcesses(processes, "top_memory"))}</section>
<section id="history"><h2>Alert history</h2>${alertTable(history, "No alerts recorded for this server.")}</section>`,
  );
}
