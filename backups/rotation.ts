/**
 * Which snapshots to keep, grandfather-father-son style: the newest snapshot of each of the
 * `keepHourly` most recent hours that have one, and of each of the `keepDaily` most recent days
 * (UTC, as the file names). Pure: names and times in, names to delete out.
 */

export interface Dated {
  name: string;
  time: number;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

function newestPerPeriod(sorted: readonly Dated[], periodMs: number, periods: number, keep: Set<string>): void {
  const seen = new Set<number>();
  for (const s of sorted) {
    const period = Math.floor(s.time / periodMs);
    if (seen.has(period)) continue;
    if (seen.size >= periods) break;
    seen.add(period);
    keep.add(s.name);
  }
}

export function snapshotsToDelete(snapshots: readonly Dated[], keepHourly: number, keepDaily: number): string[] {
  const newestFirst = [...snapshots].sort((a, b) => b.time - a.time || (a.name < b.name ? 1 : -1));
  const keep = new Set<string>();
  newestPerPeriod(newestFirst, HOUR_MS, keepHourly, keep);
  newestPerPeriod(newestFirst, DAY_MS, keepDaily, keep);
  return newestFirst.filter((s) => !keep.has(s.name)).map((s) => s.name);
}
