import { z } from "zod";
import type { AlertEvent } from "../storage/alert-history.js";
import type { ActiveAlert } from "../storage/alert-state.js";
import { compareAdvisories, type Advisory } from "../storage/advisory.js";
import type { FleetSource } from "../storage/fleet.js";
import type { PullStatus } from "../storage/pull-status.js";
import type { Sample } from "../storage/sample.js";
import { compareSeries } from "./charts.js";
import { serverPage } from "./file-names.js";
import { DEFAULT_RANGE, type RangeName } from "./ranges.js";
import { BUILTIN_CATALOGUE, REBOOT_METRIC } from "../sensors/catalogue.js";
import { seriesKey } from "../storage/series-key.js";

/** What the pages show, computed from the data with a fixed clock; pages.ts only formats it. */

/**
 * "waiting": a remote that never reported, not yet for silent_after since its first pull attempt;
 * "never": one that never reported for longer. Worst first in STATUS_ORDER.
 */
export type Status = "ok" | "pending" | "warning" | "critical" | "silent" | "waiting" | "never" | "silenced";
export const STATUS_ORDER: readonly Status[] = [
  "critical",
  "silent",
  "never",
  "warning",
  "pending",
  "silenced",
  "waiting",
  "ok",
];

export interface ServerView {
  name: string;
  /** The server's page, relative to public/. */
  page: string;
  status: Status;
  lastSeen?: string;
  /** The newest sample of each of its series, in chart order. */
  latest: Sample[];
  /** Its alerts firing and pending (the alert state), firing first. */
  alerts: ActiveAlert[];
  /** Why its last pull failed (a remote). */
  pullError?: string;
  /** Boot times of its latest reboots (Reboot events), newest first. */
  reboots: string[];
}

export interface Dashboard {
  generatedAt: Date;
  refreshSeconds: number;
  servers: ServerView[];
  /** Firing, then pending, as ams-alert left them: the one source of what is firing. */
  alerts: ActiveAlert[];
  /** Newest first. */
  history: AlertEvent[];
  advisories: Advisory[];
  sources: SourceView[];
}

/** A store the pages were drawn from; a remote copy also says how its last pulls went. */
export type SourceView = FleetSource & { pull?: PullStatus };

export const CERT_METRIC = "CERT";
export const RECENT_ALERTS = 12;
const RECENT_REBOOTS = 5;
const LATEST_ADVISORIES = 10;

/** A server's page over a range, relative to public/: its page (24 hours) or the range's. */
export const serverRangePage = (server: string, range: RangeName) =>
  serverPage(server, range === DEFAULT_RANGE ? undefined : range);

/** The combined charts of one range, relative to public/. */
export const fleetPage = (range: RangeName) => `charts/${range}.html`;

/** Firing before pending, critical before warning, then the oldest first. */
export function compareAlerts(a: ActiveAlert, b: ActiveAlert): number {
  const rank = (x: ActiveAlert) => (x.status === "firing" ? 0 : 2) + (x.severity === "critical" ? 0 : 1);
  return rank(a) - rank(b) || (a.since ?? "").localeCompare(b.since ?? "") || a.key.localeCompare(b.key);
}

/** Events (CERT advisories, reboots) are not measurements: no latest value, no chart. */
export const EVENT_METRICS: ReadonlySet<string> = new Set(
  BUILTIN_CATALOGUE.filter((e) => e.kind === "event").map((e) => e.metric_type),
);

/** The newest sample of every series, grouped by server. */
export function latestByServer(samples: readonly Sample[]): Map<string, Sample[]> {
  const latest = new Map<string, { sample: Sample; t: number }>();
  for (const sample of samples) {
    if (EVENT_METRICS.has(sample.metric_type)) continue;
    const key = seriesKey(sample);
    const t = Date.parse(sample.timestamp);
    const seen = latest.get(key);
    if (!seen || t >= seen.t) latest.set(key, { sample, t });
  }
  const byServer = new Map<string, Sample[]>();
  for (const { sample } of latest.values())
    byServer.set(sample.server_id, [...(byServer.get(sample.server_id) ?? []), sample]);
  for (const list of byServer.values())
    list.sort((a, b) =>
      compareSeries(
        { metric: a.metric_type, labels: a.labels ?? {} },
        { metric: b.metric_type, labels: b.labels ?? {} },
      ),
    );
  return byServer;
}

export function serverStatus(
  latest: readonly Sample[],
  alerts: readonly ActiveAlert[],
  now: number,
  silentAfterSeconds: number,
): Status {
  const newest = latest.reduce((n, s) => Math.max(n, Date.parse(s.timestamp)), -Infinity);
  // A firing alert a silence or maintenance window holds is known and handled: "silenced", not red.
  const firing = alerts.filter((a) => a.status === "firing" && !a.silenced);
  if (!(now - newest <= silentAfterSeconds * 1000)) return "silent";
  if (firing.some((e) => e.severity === "critical")) return "critical";
  if (firing.length > 0) return "warning";
  if (alerts.some((a) => a.status === "pending")) return "pending";
  if (alerts.length > 0) return "silenced";
  return "ok";
}

const str = (v: unknown) => (typeof v === "string" ? v : undefined);

/** The newest advisories, one per link, newest first (by pubDate, then CERTFR number). */
export function latestAdvisories(samples: readonly Sample[], count = LATEST_ADVISORIES): Advisory[] {
  const byLink = new Map<string, Advisory>();
  for (const sample of samples) {
    if (sample.metric_type !== CERT_METRIC) continue;
    const d = sample.details ?? {};
    const link = str(d.link);
    const title = str(d.title);
    if (!link || !title) continue;
    const published = str(d.published) ?? sample.timestamp;
    const id = str(d.id);
    byLink.set(link, { title, link, published: new Date(published).toISOString(), ...(id ? { id } : {}) });
  }
  return [...byLink.values()].sort(compareAdvisories).slice(0, count);
}

/** The boot times of each server's latest reboots, newest first. */
export function rebootsByServer(samples: readonly Sample[], count = RECENT_REBOOTS): Map<string, string[]> {
  const boots = new Map<string, Set<string>>();
  for (const sample of samples) {
    if (sample.metric_type !== REBOOT_METRIC) continue;
    const boot = str(sample.details?.boot_time) ?? sample.timestamp;
    if (Number.isNaN(Date.parse(boot))) continue;
    boots.set(sample.server_id, (boots.get(sample.server_id) ?? new Set()).add(boot));
  }
  return new Map(
    [...boots].map(([server, set]) => [server, [...set].sort((a, b) => Date.parse(b) - Date.parse(a)).slice(0, count)]),
  );
}

export interface DashboardInput {
  samples: readonly Sample[];
  /** The alert history: recent events and shaded periods. */
  history: readonly AlertEvent[];
  /** The alert state: what is firing and pending now. */
  active: readonly ActiveAlert[];
  sources: SourceView[];
  now: Date;
  refreshSeconds: number;
  silentAfterSeconds: number;
  /** Remotes that never reported, with the time (ms) of their first pull attempt (storage/pull-status.ts). */
  neverReported?: ReadonlyMap<string, number>;
}

export function buildDashboard(input: DashboardInput): Dashboard {
  const active = [...input.active].sort(compareAlerts);
  const latest = latestByServer(input.samples);
  const reboots = rebootsByServer(input.samples);
  const unreported = input.neverReported ?? new Map<string, number>();
  const servers = [...new Set([...latest.keys(), ...unreported.keys()])]
    .sort((a, b) => a.localeCompare(b))
    .map((name): ServerView => {
      const list = latest.get(name) ?? [];
      const own = active.filter((e) => e.server_id === name);
      const expected = unreported.get(name);
      const pullError = input.sources.find((s) => s.name === name)?.pull?.last_error;
      if (list.length === 0 && expected !== undefined) {
        const silent = input.now.getTime() - expected >= input.silentAfterSeconds * 1000;
        return {
          name,
          page: serverPage(name),
          status: silent ? "never" : "waiting",
          latest: [],
          alerts: own,
          ...(pullError ? { pullError } : {}),
          reboots: [],
        };
      }
      const newest = list.map((s) => s.timestamp).sort((a, b) => Date.parse(b) - Date.parse(a))[0];
      return {
        name,
        page: serverPage(name),
        status: serverStatus(list, own, input.now.getTime(), input.silentAfterSeconds),
        lastSeen: newest,
        latest: list,
        alerts: own,
        ...(pullError ? { pullError } : {}),
        reboots: reboots.get(name) ?? [],
      };
    });
  return {
    generatedAt: input.now,
    refreshSeconds: input.refreshSeconds,
    servers: servers.sort(
      (a, b) => STATUS_ORDER.indexOf(a.status) - STATUS_ORDER.indexOf(b.status) || a.name.localeCompare(b.name),
    ),
    alerts: active,
    history: [...input.history].reverse(),
    advisories: latestAdvisories(input.samples),
    sources: input.sources,
  };
}

const ProcessList = z.array(
  z.looseObject({ pid: z.number(), name: z.string(), cpu_percent: z.number(), rss_bytes: z.number() }),
);
export type ProcessRow = z.infer<typeof ProcessList>[number];

/** The top processes of a Processes sample, or [] when its details do not have that shape. */
export function topProcesses(sample: Sample | undefined, key: "top_cpu" | "top_memory"): ProcessRow[] {
  const parsed = ProcessList.safeParse(sample?.details?.[key]);
  return parsed.success ? parsed.data : [];
}
