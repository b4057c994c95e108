import { columns, type Column } from "./columns.js";
import { columnsBetween, type PointColumns, type Series } from "./series.js";

/** A figure of a server's card: its latest value and the last 24 hours of its series. */
export interface Headline {
  title: string;
  value: number;
  unit: string;
  /** The last 24 hours in buckets (their means), oldest first. */
  points: Column[];
  floor?: number;
  ceiling?: number;
}

const DAY = 86400_000;

/** Where the points a server's card needs start: the last 24 hours, and the newest point however old. */
export const headlinesFrom = (newest: number, now: number) => Math.min(newest, now - DAY);
const SPARK_BUCKETS = 48;

/** A series with its newest points (from headlinesFrom on) in columns. */
export type NewestPoints = Omit<Series, "points"> & { points: PointColumns };

/** The card figures, in this order, when the server has the series: CPU, RAM, the fullest disk, load. */
export function headlines(serverSeries: readonly NewestPoints[], now: number): Headline[] {
  const latest = (s: NewestPoints) => s.points.value[s.points.value.length - 1]!;
  const find = (metric: string) => serverSeries.find((s) => s.metric === metric && s.points.t.length > 0);
  const fullestDisk = serverSeries
    .filter((s) => s.metric === "Disk" && s.points.t.length > 0)
    .sort((a, b) => latest(b) - latest(a))[0];
  const load = find("Load1") ?? find("LoadPerCPU");
  const picks: [string, NewestPoints | undefined, { floor?: number; ceiling?: number }][] = [
    ["CPU", find("CPU"), { floor: 0, ceiling: 100 }],
    ["RAM", find("RAM"), { floor: 0, ceiling: 100 }],
    [fullestDisk ? `Disk ${fullestDisk.labels.mount ?? ""}`.trim() : "Disk", fullestDisk, { floor: 0, ceiling: 100 }],
    [load?.metric === "LoadPerCPU" ? "Load/CPU" : "Load", load, { floor: 0 }],
  ];
  return picks.flatMap(([title, series, axis]) =>
    series
      ? [
          {
            title,
            value: latest(series),
            unit: series.unit,
            points: columns(columnsBetween(series.points, now - DAY, now), now - DAY, now, SPARK_BUCKETS),
            ...axis,
          },
        ]
      : [],
  );
}

/** A 24-hour sparkline, stretched to its box; no text, so nothing to read at any size. */
export function sparkline(h: Headline, now: number): string {
  if (h.points.length === 0) return "";
  const top = h.points.reduce((t, p) => Math.max(t, p.hi), h.ceiling ?? 0) || 1;
  const bottom = h.floor ?? 0;
  const x = (t: number) => (((t - (now - DAY)) / DAY) * 100).toFixed(1);
  const y = (v: number) => (24 - ((v - bottom) / Math.max(1e-9, top - bottom)) * 22 - 1).toFixed(1);
  const d =
    h.points.length === 1
      ? `M${x(h.points[0]!.t)},${y(h.points[0]!.value)}h-2`
      : h.points.map((p, i) => `${i === 0 ? "M" : "L"}${x(p.t)},${y(p.value)}`).join("");
  return `<svg class="spark" viewBox="0 0 100 24" preserveAspectRatio="none" aria-hidden="true"><path d="${d}"/></svg>`;
}
