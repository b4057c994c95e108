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

/** Where the last whole step of a long range ends at `now`, the steps shifted by `phase` (ms). */
export const lastStepEnd = (step: number, now: number, phase = 0) => Math.floor((now - phase) / step) * step + phase;

/**
 * A server's shift of its long ranges' steps: a fraction of the step drawn from its name (FNV-1a),
 * the same every run. With every server's week charts completing a step at the same moment, one
 * run in eight redrew all of them; shifted, each run redraws an even share.
 */
export function stepPhase(server: string, step: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < server.length; i++) hash = Math.imul(hash ^ server.charCodeAt(i), 0x01000193);
  // Mixed (murmur3's finaliser): FNV's high bits hardly differ between srv-1 and srv-2.
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35);
  hash = (hash ^ (hash >>> 16)) >>> 0;
  return Math.floor((hash / 2 ** 32) * step);
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
