/** The time ranges every chart is drawn for. */
export const RANGES = [
  { name: "24h", label: "last 24 hours", ms: 24 * 3600_000, tickFormat: "%H:%M" },
  { name: "7d", label: "last 7 days", ms: 7 * 86400_000, tickFormat: "%a %d" },
  { name: "30d", label: "last 30 days", ms: 30 * 86400_000, tickFormat: "%d %b" },
] as const;

export type Range = (typeof RANGES)[number];
export type RangeName = Range["name"];

export function findRange(name: string): Range | undefined {
  return RANGES.find((r) => r.name === name);
}
