import type { IncomingMessage, ServerResponse } from "node:http";
import type { Config } from "../config/ams-config.js";
import type { Paths } from "../lib/paths.js";
import type { StoredAlert } from "../storage/alert-state.js";
import { readPullStatus, type PullStatuses } from "../storage/pull-status.js";
import type { Sample } from "../storage/sample.js";
import { seriesKey } from "../storage/series-key.js";
import { builtinEntry, catalogueEntry } from "../sensors/catalogue.js";
import { fleetSnapshot } from "./fleet-snapshot.js";

/**
 * GET /metrics: the fleet in the Prometheus text exposition format 0.0.4, so that a fleet that
 * outgrows scp can be scraped by Prometheus instead. Only the latest value of each series is
 * exposed, without a timestamp (Prometheus would drop old ones); its age is a series of its own.
 */

export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** An alert currently firing, as the alerts job stores it. */
export type FiringAlert = Pick<StoredAlert, "rule" | "server_id" | "severity" | "labels" | "silenced">;

export interface MetricsInput {
  samples: readonly Sample[];
  /** Configured remote names: each gets a pull status, pulled yet or not. */
  remotes: readonly string[];
  pulls: PullStatuses;
  alerts: readonly FiringAlert[];
  /** Each source read (this server's store, each remote's copy), by the server it stands for. */
  sources?: readonly { server: string; readable: boolean }[];
  now: Date;
  /** Full reads of the stores by this ams-web so far (a counter); left out when not given. */
  storeReads?: number;
}

/** Label names AMS sets itself; a sample label of that name is exposed as label_<name>. */
const RESERVED_LABELS = new Set(["server", "metric", "rule", "severity"]);

type Labels = [string, string][];

interface Series {
  labels: Labels;
  value: number;
  /** Sample time (ms): when two samples land on one series, the later wins. */
  time: number;
}

interface Family {
  help: string;
  type: "gauge" | "counter";
  series: Map<string, Series>;
}

function sanitizeName(text: string): string {
  const name = text.replace(/[^A-Za-z0-9_]/g, "_");
  return /^[0-9]/.test(name) ? `_${name}` : name;
}

/** A sample's label name as a Prometheus one: "__" (reserved) stripped first, so "__1" becomes "_1", never "1". */
function sampleLabelName(name: string): string {
  const clean = sanitizeName(name.replace(/[^A-Za-z0-9_]/g, "_").replace(/^__+/, ""));
  return RESERVED_LABELS.has(clean) || clean === "" ? `label_${clean}` : clean;
}

/** Label values escape backslash, double quote and newline (text format 0.0.4). */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (!Number.isFinite(value)) return value > 0 ? "+Inf" : "-Inf";
  return String(value);
}

/** The families being built, keyed by metric name; each series keyed by its exposed label set. */
class Exposition {
  private families = new Map<string, Family>();

  add(name: string, help: string, labels: Labels, value: number, time = 0, type: Family["type"] = "gauge"): void {
    let family = this.families.get(name);
    if (!family) this.families.set(name, (family = { help, type, series: new Map() }));
    // Sorted and deduplicated label names, so one label set is one key and never a duplicate series.
    const unique = [...new Map(labels).entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const key = unique.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(",");
    const existing = family.series.get(key);
    if (!existing || time >= existing.time) family.series.set(key, { labels: unique, value, time });
  }

  render(): string {
    const lines: string[] = [];
    for (const name of [...this.families.keys()].sort()) {
      const family = this.families.get(name)!;
      lines.push(`# HELP ${name} ${escapeHelp(family.help)}`, `# TYPE ${name} ${family.type}`);
      for (const key of [...family.series.keys()].sort()) {
        lines.push(`${name}${key ? `{${key}}` : ""} ${formatValue(family.series.get(key)!.value)}`);
      }
    }
    return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
  }
}

/** The newest sample of each series (server + metric type + labels). */
function latestSamples(samples: readonly Sample[]): Sample[] {
  const latest = new Map<string, { sample: Sample; time: number }>();
  for (const sample of samples) {
    const key = seriesKey(sample);
    const time = Date.parse(sample.timestamp);
    const seen = latest.get(key);
    if (!seen || time >= seen.time) latest.set(key, { sample, time });
  }
  return [...latest.values()].map((entry) => entry.sample);
}

function addSamples(out: Exposition, samples: readonly Sample[], now: Date): void {
  for (const sample of latestSamples(samples)) {
    // Names, HELP and base units come from the catalogue; events (CERT advisories, reboots) are not gauges.
    const entry = catalogueEntry(sample.metric_type, sample.unit);
    const family = entry.prometheus;
    if (!family) continue;
    const time = Date.parse(sample.timestamp);
    const own: Labels = Object.entries(sample.labels ?? {}).map(([k, v]) => [sampleLabelName(k), v]);
    const server: Labels = [["server", sample.server_id]];
    // A custom sensor's family may hold several sensors whose names sanitize alike: the metric label tells them apart.
    const metric: Labels = builtinEntry(sample.metric_type) ? [] : [["metric", sample.metric_type]];
    const value = sample.value * (family.scale ?? 1);
    out.add(family.name, entry.help, [...server, ...metric, ...own], value, time, family.type);
    const age = (now.getTime() - time) / 1000;
    out.add(
      "ams_sample_age_seconds",
      "Seconds since the latest sample of each series was taken.",
      [...server, ["metric", sample.metric_type], ...own],
      age,
      time,
    );
  }
}

function addPulls(out: Exposition, remotes: readonly string[], pulls: PullStatuses): void {
  for (const name of remotes) {
    const status = pulls[name];
    const server: Labels = [["server", name]];
    out.add(
      "ams_remote_up",
      "1 if the last pull of this remote's store succeeded, else 0 (also before the first pull).",
      server,
      status && !status.last_error ? 1 : 0,
    );
    if (!status) continue;
    if (status.last_success) {
      out.add(
        "ams_remote_last_success_timestamp_seconds",
        "Unix time of the last successful pull of this remote.",
        server,
        Date.parse(status.last_success) / 1000,
      );
    }
    out.add(
      "ams_remote_last_attempt_timestamp_seconds",
      "Unix time of the last pull attempt of this remote.",
      server,
      Date.parse(status.last_attempt) / 1000,
    );
    out.add(
      "ams_remote_foreign_records",
      "Records of this remote's last good copy naming a server it may not speak for (skipped).",
      server,
      status.foreign_records ?? 0,
    );
    out.add(
      "ams_remote_pull_duration_seconds",
      "Seconds the last pull of this remote took.",
      server,
      status.duration_seconds,
    );
  }
}

function addSources(out: Exposition, sources: readonly { server: string; readable: boolean }[]): void {
  for (const source of sources) {
    out.add(
      "ams_source_readable",
      "1 if this server's samples (local store or last remote copy) could be read, else 0: its series are then missing.",
      [["server", source.server]],
      source.readable ? 1 : 0,
    );
  }
}

function addAlerts(out: Exposition, alerts: readonly FiringAlert[]): void {
  for (const alert of alerts) {
    const own: Labels = Object.entries(alert.labels ?? {}).map(([k, v]) => [sampleLabelName(k), v]);
    const labels: Labels = [["rule", alert.rule], ["server", alert.server_id], ["severity", alert.severity], ...own];
    out.add("ams_alert_firing", "1 for each alert currently firing.", labels, 1);
    out.add(
      "ams_alert_silenced",
      "1 for each firing alert a silence or a maintenance window holds, 0 for the others.",
      labels,
      alert.silenced ? 1 : 0,
    );
  }
}

/** The whole exposition: latest samples and their age, pull status of each remote, firing alerts. */
export function renderMetrics(input: MetricsInput): string {
  const out = new Exposition();
  addSamples(out, input.samples, input.now);
  addPulls(out, input.remotes, input.pulls);
  addSources(out, input.sources ?? []);
  addAlerts(out, input.alerts);
  if (input.storeReads !== undefined) {
    out.add(
      "ams_web_store_reads_total",
      "Times this ams-web read the stores again because one changed (only what was appended, when a store was appended to); a scrape of an unchanged fleet reads none.",
      [],
      input.storeReads,
      0,
      "counter",
    );
  }
  return out.render();
}

export interface MetricsHandlerOptions {
  /** The alerts firing now (the alerts job's state); none when not given. */
  firingAlerts?: () => Promise<readonly FiringAlert[]>;
  now?: () => Date;
}

/**
 * An HTTP handler for GET /metrics over the whole fleet (local store and every remote copy). The
 * stores are read again only when one changed (fleet-snapshot.ts), keeping only the latest sample
 * of each series; the small pull status and alert state are read per request.
 */
export function metricsHandler(paths: Paths, config: Config, options: MetricsHandlerOptions = {}) {
  const snapshot = fleetSnapshot(paths, config, latestSamples);
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let body: string;
    try {
      const [fleet, pulls, alerts] = await Promise.all([
        snapshot.fleet(),
        readPullStatus(paths),
        options.firingAlerts?.() ?? [],
      ]);
      body = renderMetrics({
        samples: fleet.samples,
        remotes: config.remotes.map((r) => r.name),
        pulls,
        alerts,
        sources: fleet.sources.map((s) => ({
          server: s.name === "local" ? config.server_id : s.name,
          readable: s.error === undefined,
        })),
        now: options.now?.() ?? new Date(),
        storeReads: snapshot.reads,
      });
    } catch (err) {
      res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
      res.end(`cannot read the fleet: ${(err as Error).message}\n`);
      return;
    }
    res.writeHead(200, { "content-type": METRICS_CONTENT_TYPE, "content-length": Buffer.byteLength(body) });
    res.end(req.method === "HEAD" ? undefined : body);
  };
}
