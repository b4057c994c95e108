import { isoLocal } from "../lib/time.js";
import type { RetentionOptions } from "./retention-config.js";
import { normalizeRecord, type Sample } from "./sample.js";
import { seriesKey } from "./series-key.js";

/**
 * Retention of this server's store, as RRD archives do it: raw samples for `raw_days`, then one
 * hourly record per series (mean as `value`, with count, min and max) for `rollup_days`, then
 * nothing; a size cap as a last resort. Pure: records and a clock in, records and a report out.
 */

export const ROLLUP_SECONDS = 3600;
const HOUR_MS = ROLLUP_SECONDS * 1000;
const DAY_MS = 86_400_000;

export interface CleanupReport {
  recordsBefore: number;
  recordsAfter: number;
  /** Raw samples younger than raw_days, kept as they were. */
  keptRaw: number;
  /** Raw samples folded into hourly rollups. */
  consolidated: number;
  /** Rollup records made or extended by this run. */
  rollupsWritten: number;
  /** Raw samples and rollups older than rollup_days. */
  expired: number;
  /** CERT advisories beyond the newest cert_keep per server. */
  certDropped: number;
  /** Records dropped, oldest first, to stay under max_bytes. */
  capped: number;
  /** Records that fit no known form: kept untouched, never guessed at. */
  unreadable: number;
  bytesBefore: number;
  bytesAfter: number;
}

export interface CleanupResult {
  records: unknown[];
  report: CleanupReport;
}

export interface CleanupOptions {
  retention: RetentionOptions;
  now: Date;
  /** Tags records lacking a server_id (as the store's readers do). */
  fallbackServerId: string;
}

interface Entry {
  record: unknown;
  /** Position in the original file; rollups come first. */
  index: number;
  /** Epoch ms; undefined for unreadable records. */
  time?: number;
}

interface Bucket {
  sample: Sample;
  hour: number;
  sum: number;
  count: number;
  min: number;
  max: number;
  changed: boolean;
}

const floorHour = (ms: number) => Math.floor(ms / HOUR_MS) * HOUR_MS;

/** Bytes one record takes in formatJsonArray's layout (its line and the ",\n" after it). */
const recordBytes = (record: unknown) => Buffer.byteLength(JSON.stringify(record)) + 2;
const arrayBytes = (records: readonly unknown[]) => records.reduce<number>((sum, r) => sum + recordBytes(r), 4);

function rollupRecord(b: Bucket): Sample {
  const { server_id, metric_type, unit, labels } = b.sample;
  return {
    server_id,
    metric_type,
    timestamp: isoLocal(new Date(b.hour)),
    value: b.sum / b.count,
    unit,
    ...(labels ? { labels } : {}),
    rollup: { period_seconds: ROLLUP_SECONDS, count: b.count, min: b.min, max: b.max },
  };
}

/** Keeps the newest `keep` CERT entries of each server; returns how many were dropped. */
function limitCert(cert: Map<string, Entry[]>, keep: number, out: Entry[]): number {
  let dropped = 0;
  for (const entries of cert.values()) {
    entries.sort((a, b) => b.time! - a.time!);
    for (const entry of entries.slice(0, keep)) out.push(entry);
    dropped += Math.max(0, entries.length - keep);
  }
  return dropped;
}

/** What one record adds to its hourly bucket: a raw sample counts once, an earlier rollup its count. */
interface Contribution {
  count: number;
  sum: number;
  min: number;
  max: number;
  /** True for raw samples: the bucket's record must be (re)written. */
  changed: boolean;
}

/** Where each record goes: kept as it is, into an hourly bucket, into its server's CERT list, or away. */
interface Classified {
  kept: Entry[];
  buckets: Map<string, Bucket>;
  cert: Map<string, Entry[]>;
}

function emptyReport(records: readonly unknown[]): CleanupReport {
  return {
    recordsBefore: records.length,
    recordsAfter: 0,
    keptRaw: 0,
    consolidated: 0,
    rollupsWritten: 0,
    expired: 0,
    certDropped: 0,
    capped: 0,
    unreadable: 0,
    bytesBefore: arrayBytes(records),
    bytesAfter: 0,
  };
}

function addToBucket(buckets: Map<string, Bucket>, sample: Sample, hour: number, c: Contribution): void {
  const key = `${seriesKey(sample)}@${hour}`;
  const b = buckets.get(key);
  if (!b) buckets.set(key, { sample, hour, ...c });
  else {
    b.sum += c.sum;
    b.count += c.count;
    b.min = Math.min(b.min, c.min);
    b.max = Math.max(b.max, c.max);
    b.changed ||= c.changed;
  }
}

/** Step 1: classifies every record by age and kind, counting what it does in the report. */
function classifyRecords(records: readonly unknown[], options: CleanupOptions, report: CleanupReport): Classified {
  const { retention, now, fallbackServerId } = options;
  // Hour-aligned cutoffs: an hour is consolidated once, whole, when all of it is older than raw_days.
  const rawCutoff = floorHour(now.getTime() - retention.raw_days * DAY_MS);
  const rollupCutoff = floorHour(now.getTime() - retention.rollup_days * DAY_MS);
  const classified: Classified = { kept: [], buckets: new Map(), cert: new Map() };
  records.forEach((record, index) => {
    const sample = normalizeRecord(record, fallbackServerId);
    if (!sample) {
      report.unreadable++;
      classified.kept.push({ record, index });
      return;
    }
    const time = Date.parse(sample.timestamp);
    if (sample.metric_type === "CERT") {
      const list = classified.cert.get(sample.server_id) ?? [];
      list.push({ record, index, time });
      classified.cert.set(sample.server_id, list);
      return;
    }
    const hour = floorHour(time);
    if (hour < rollupCutoff) {
      report.expired++;
      return;
    }
    const rollup = sample.rollup;
    if (rollup?.period_seconds === ROLLUP_SECONDS) {
      // An earlier run's rollup: merged with any raw samples of the same hour that arrived late.
      const { count, min, max } = rollup;
      addToBucket(classified.buckets, sample, hour, { count, sum: sample.value * count, min, max, changed: false });
    } else if (rollup || time >= rawCutoff) {
      report.keptRaw += rollup ? 0 : 1;
      classified.kept.push({ record, index, time });
    } else {
      report.consolidated++;
      const v = sample.value;
      addToBucket(classified.buckets, sample, hour, { count: 1, sum: v, min: v, max: v, changed: true });
    }
  });
  return classified;
}

/** Step 2: one record per bucket, oldest hour first; a bucket no raw sample joined keeps its record. */
function rollupEntries(buckets: Map<string, Bucket>, report: CleanupReport): Entry[] {
  const rollups = [...buckets.values()].sort((a, b) => a.hour - b.hour);
  return rollups.map((b) => {
    if (b.changed) report.rollupsWritten++;
    return { record: b.changed ? rollupRecord(b) : b.sample, index: -1, time: b.hour };
  });
}

/**
 * Classifies the records (kept, consolidated into hourly buckets, CERT, expired), keeps the newest
 * CERT records per server, writes the buckets as rollups ahead of the records kept in file order,
 * then caps the whole at max_bytes.
 */
export function cleanupSamples(records: readonly unknown[], options: CleanupOptions): CleanupResult {
  const report = emptyReport(records);
  const { kept, buckets, cert } = classifyRecords(records, options, report);
  report.certDropped = limitCert(cert, options.retention.cert_keep, kept);
  const entries = rollupEntries(buckets, report);
  // Original file order for everything that was not consolidated, after the (older) rollups.
  kept.sort((a, b) => a.index - b.index);
  for (const entry of kept) entries.push(entry); // a spread of data-sized arrays overflows the stack
  const result = capBytes(entries, options.retention.max_bytes, report);
  report.recordsAfter = result.length;
  return { records: result, report };
}

/** Drops the oldest readable records until the file fits in `maxBytes`. */
function capBytes(entries: Entry[], maxBytes: number, report: CleanupReport): unknown[] {
  const sizes = entries.map((e) => recordBytes(e.record));
  let total = sizes.reduce((a, b) => a + b, 4);
  report.bytesAfter = total;
  if (total <= maxBytes) return entries.map((e) => e.record);
  const oldestFirst = entries.map((_, i) => i).filter((i) => entries[i]!.time !== undefined);
  oldestFirst.sort((a, b) => entries[a]!.time! - entries[b]!.time!);
  const dropped = new Set<number>();
  for (const i of oldestFirst) {
    if (total <= maxBytes) break;
    dropped.add(i);
    total -= sizes[i]!;
  }
  report.capped = dropped.size;
  report.bytesAfter = total;
  return entries.filter((_, i) => !dropped.has(i)).map((e) => e.record);
}
