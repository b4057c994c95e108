import { updateJsonArray } from "../storage/locked-file.js";
import { AlertEventSchema } from "../storage/alert-history.js";

export interface PruneOptions {
  /** Events recorded longer ago than this go. */
  maxDays: number;
  /** Then only the newest this many are kept. */
  maxEntries: number;
  now: Date;
  /** Keys of alerts still firing: their events are always kept. */
  firingKeys: Iterable<string>;
}

export interface PruneResult {
  kept: number;
  removed: number;
}

/**
 * Bounds storage/alerts_log.json by age and count, under its lock. Events of an alert that is still
 * firing are never removed (the dashboard must be able to say since when it fires); entries that do
 * not parse are left alone rather than lost.
 */
export async function pruneAlertHistory(file: string, options: PruneOptions): Promise<PruneResult> {
  const firing = new Set(options.firingKeys);
  const oldest = options.now.getTime() - options.maxDays * 86_400_000;
  let result: PruneResult = { kept: 0, removed: 0 };
  await updateJsonArray(file, (records) => {
    const parsed = records.map((record) => ({ record, event: AlertEventSchema.safeParse(record).data }));
    // Newest first, so that the count limit keeps the most recent prunable events.
    const prunable = parsed
      .map((entry, index) => ({ ...entry, index }))
      .filter(({ event }) => event && !firing.has(event.key) && Date.parse(event.at) >= oldest)
      .sort((a, b) => Date.parse(b.event!.at) - Date.parse(a.event!.at) || b.index - a.index)
      .slice(0, options.maxEntries);
    const keep = new Set(prunable.map((p) => p.index));
    const kept = parsed
      .filter(({ event }, index) => !event || firing.has(event.key) || keep.has(index))
      .map((p) => p.record);
    result = { kept: kept.length, removed: records.length - kept.length };
    return kept;
  });
  return result;
}
