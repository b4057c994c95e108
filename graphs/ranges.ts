/** The time ranges every chart is drawn for, each its own page; 90 days only where hourly rollups reach back that far. */
export const RANGES = [
  { name: "1h", label: "last hour", ms: 3600_000, tickFormat: "%H:%M" },
  { name: "6h", label: "last 6 hours", ms: 6 * 3600_000, tickFormat: "%H:%M" },
  { name: "24h", label: "last 24 hours", ms: 24 * 3600_000, tickFormat: "%H:%M" },
  { name: "7d", label: "last 7 days", ms: 7 * 86400_000, tickFormat: "%a %d" },
  { name: "30d", label: "last 30 days", ms: 30 * 86400_000, tickFormat: "%d %b" },
  { name: "90d", label: "last 90 days", ms: 90 * 86400_000, tickFormat: "%d %b" },
] as const;

export type Range = (typeof RANGES)[number];
export type RangeName = Range["name"];

/** What a server page shows without a range in its name. */
export const DEFAULT_RANGE: RangeName = "24h";

export function findRange(name: string): Range | undefined {
  return RANGES.find((r) => r.name === name);
}

/** The ranges worth a page: all but 90 days, which needs data older than 30 days. */
export function rangesFor(oldest: number, now: number): Range[] {
  return RANGES.filter((r) => r.name !== "90d" || now - oldest > 30 * 86400_000);
}
