const HOUR = 3600_000;
const DAY = 24 * HOUR;

/**
 * Steps across a long range: its charts have at most this many buckets per line (charts.ts), each
 * one or more whole steps wide.
 */
export const STEPS_PER_RANGE = 240;

/**
 * The time ranges every chart is drawn for, each its own page; 90 days only where hourly rollups
 * reach back that far. A long range has a step (7 days: 42 minutes): its charts end at their last
 * whole step, as an RRD's consolidated rows do, so they change once a step and not with every sample.
 */
export const RANGES = [
  { name: "1h", label: "last hour", ms: HOUR, tickFormat: "%H:%M" },
  { name: "6h", label: "last 6 hours", ms: 6 * HOUR, tickFormat: "%H:%M" },
  { name: "24h", label: "last 24 hours", ms: 24 * HOUR, tickFormat: "%H:%M" },
  { name: "7d", label: "last 7 days", ms: 7 * DAY, step: (7 * DAY) / STEPS_PER_RANGE, tickFormat: "%a %d" },
  { name: "30d", label: "last 30 days", ms: 30 * DAY, step: (30 * DAY) / STEPS_PER_RANGE, tickFormat: "%d %b" },
  { name: "90d", label: "last 90 days", ms: 90 * DAY, step: (90 * DAY) / STEPS_PER_RANGE, tickFormat: "%d %b" },
] as const;

export type RangeName = (typeof RANGES)[number]["name"];

export interface Range {
  name: RangeName;
  label: string;
  ms: number;
  /** Long ranges only: the charts whose data fills the range end at the last multiple of it. */
  step?: number;
  /** d3 time format of the time axis ticks. */
  tickFormat: string;
}

/** What a server page shows without a range in its name. */
export const DEFAULT_RANGE: RangeName = "24h";

export function findRange(name: string): Range | undefined {
  return RANGES.find((r) => r.name === name);
}

/** The ranges worth a page: all but 90 days, which needs data older than 30 days. */
export function rangesFor(oldest: number, now: number): Range[] {
  return RANGES.filter((r) => r.name !== "90d" || now - oldest > 30 * DAY);
}
