import { isoLocal } from "../lib/time.js";
import { recordBytes, rewrittenRecords, type ArrayRewrite, type RecordFold } from "./locked-file.js";
import type { RetentionOptions } from "./retention-config.js";
import { normalizeRecord, type Sample } from "./sample.js";
import { seriesKey } from "./series-key.js";

/**
 * Retention of this server's store, as RRD archives do it: raw samples for `raw_days`, then one
 * hourly record per series (mean as `value`, with count, min and max) for `rollup_days`, then
 * nothing; a size cap as a last resort. Pure: records and a clock in, what to write and a report
 * out. The records come one at a time (startCleanup), so a big store is never held whole.
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
  /**
   * Whether rewriting the store is worth it now (see `dueAt`): the changes above are made in
   * batches, since each rewrite costs the store's whole size in writes.
   */
  due: boolean;
  /** From when the oldest raw sample or rollup is `consolidate_every` past its age limit; undefined when nothing ages. */
  dueAt: number | undefined;
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

/** What the cleanup makes of the whole store: the records to write, in order, and what it did. */
export interface CleanupPlan {
  rewrite: ArrayRewrite;
  report: CleanupReport;
}

interface Bucket {
  /** The series, and what else its rollup record repeats. */
  server_id: string;
  metric_type: string;
  unit: string;
  labels: Record<string, string> | undefined;
  hour: number;
  sum: number;
  count: number;
  min: number;
  max: number;
  /** True once a raw sample joined: the bucket's record must be (re)written. */
  changed: boolean;
  /** The earlier rollup record it started from, written back as it is while unchanged (an index, or the record). */
  kept: number | Sample | undefined;
}

/** What becomes of each record read (a small integer per record, not an object). */
const Fate = {
  Kept: 0,
  /** Into an hourly bucket (a raw sample, or an earlier rollup merged with it). */
  Bucketed: 1,
  Expired: 2,
  /** A CERT advisory: kept unless beyond cert_keep for its server. */
  Cert: 3,
  Dropped: 4,
} as const;
type Fate = (typeof Fate)[keyof typeof Fate];

/** What one record adds to its hourly bucket: a raw sample counts once, an earlier rollup its count. */
type Contribution = Pick<Bucket, "sum" | "count" | "min" | "max" | "changed" | "kept">;

const floorHour = (ms: number) => Math.floor(ms / HOUR_MS) * HOUR_MS;

/** The "[\n" and "]\n" around the records. */
const ARRAY_BYTES = 4;

function rollupRecord(b: Bucket): Sample {
  const { server_id, metric_type, unit, labels } = b;
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

/** `indices` sorted by `time`, stably (ties keep their order). */
const byTime = (indices: number[], time: (i: number) => number, direction = 1) =>
  indices.sort((a, b) => direction * (time(a) - time(b)));

/**
 * The cleanup as a fold over the store's records in file order (add), then finish: classifies each
 * record by age and kind (kept, into an hourly bucket, CERT, expired), keeps the newest CERT records
 * per server, writes the buckets as rollups ahead of the records kept in file order, then caps the
 * whole at max_bytes, and judges whether the batch is due. Per record only a few numbers are kept,
 * by its index, never the record itself: a bucket keeps only its series.
 */
export function startCleanup(options: CleanupOptions): RecordFold<CleanupPlan> {
  const { retention, fallbackServerId } = options;
  const now = options.now.getTime();
  // Hour-aligned cutoffs: an hour is consolidated once, whole, when all of it is older than raw_days.
  const rawCutoff = floorHour(now - retention.raw_days * DAY_MS);
  const rollupCutoff = floorHour(now - retention.rollup_days * DAY_MS);
  const report: CleanupReport = {
    recordsBefore: 0,
    recordsAfter: 0,
    keptRaw: 0,
    consolidated: 0,
    rollupsWritten: 0,
    expired: 0,
    certDropped: 0,
    capped: 0,
    unreadable: 0,
    bytesBefore: ARRAY_BYTES,
    bytesAfter: 0,
    due: false,
    dueAt: undefined,
  };
  /** Per record, by its index: epoch ms (NaN when unreadable), bytes, fate. */
  const times: number[] = [];
  const sizes: number[] = [];
  const fates: Fate[] = [];
  /** By series, then by hour. */
  const buckets = new Map<string, Map<number, Bucket>>();
  /** The buckets in the order they were opened: ties of the hour sort keep it. */
  const opened: Bucket[] = [];
  const cert = new Map<string, number[]>();
  /** Hours of the oldest raw sample and of the oldest sample or rollup (expired ones included): what makes a batch due. */
  let oldestRaw = Infinity;
  let oldest = Infinity;

  function addToBucket(sample: Sample, hour: number, contribution: Contribution): void {
    const key = seriesKey(sample);
    let hours = buckets.get(key);
    if (!hours) buckets.set(key, (hours = new Map<number, Bucket>()));
    const b = hours.get(hour);
    if (!b) {
      const { server_id, metric_type, unit, labels } = sample;
      const bucket = { server_id, metric_type, unit, labels, hour, ...contribution };
      hours.set(hour, bucket);
      opened.push(bucket);
    } else {
      b.sum += contribution.sum;
      b.count += contribution.count;
      b.min = Math.min(b.min, contribution.min);
      b.max = Math.max(b.max, contribution.max);
      b.changed ||= contribution.changed;
    }
  }

  /** The record's fate; its time (epoch ms, NaN when unreadable) goes into `times`. */
  function classify(record: unknown, index: number): Fate {
    const sample = normalizeRecord(record, fallbackServerId);
    if (!sample) {
      report.unreadable++;
      times.push(NaN);
      return Fate.Kept;
    }
    const time = Date.parse(sample.timestamp);
    times.push(time);
    if (sample.metric_type === "CERT") {
      const list = cert.get(sample.server_id);
      if (list) list.push(index);
      else cert.set(sample.server_id, [index]);
      return Fate.Cert;
    }
    const hour = floorHour(time);
    const rollup = sample.rollup;
    oldest = Math.min(oldest, hour);
    if (!rollup) oldestRaw = Math.min(oldestRaw, hour);
    if (hour < rollupCutoff) {
      report.expired++;
      return Fate.Expired;
    }
    if (rollup?.period_seconds === ROLLUP_SECONDS) {
      // An earlier run's rollup: merged with any raw samples of the same hour that arrived late.
      const { count, min, max } = rollup;
      // Written back as it was read unless a reader's fallback server_id was added to it.
      const kept = sample === record ? index : sample;
      addToBucket(sample, hour, { count, sum: sample.value * count, min, max, changed: false, kept });
      return Fate.Bucketed;
    }
    if (rollup || time >= rawCutoff) {
      report.keptRaw += rollup ? 0 : 1;
      return Fate.Kept;
    }
    report.consolidated++;
    const v = sample.value;
    addToBucket(sample, hour, { count: 1, sum: v, min: v, max: v, changed: true, kept: undefined });
    return Fate.Bucketed;
  }

  /** Keeps the newest `cert_keep` CERT records of each server, newest first as before; the others are dropped. */
  function limitCert(): void {
    for (const indices of cert.values()) {
      byTime(indices, (i) => times[i]!, -1);
      for (const i of indices.slice(retention.cert_keep)) fates[i] = Fate.Dropped;
      report.certDropped += Math.max(0, indices.length - retention.cert_keep);
    }
  }

  /**
   * Rollups first (one record per bucket, oldest hour first; a bucket no raw sample joined keeps its
   * record), then the records kept, in file order; with each one's time (NaN: never capped) and size.
   */
  function layOut(): { rewrite: ArrayRewrite; time: number[]; size: number[] } {
    const rewrite: ArrayRewrite = { order: [], created: [] };
    const time: number[] = [];
    const size: number[] = [];
    const create = (record: unknown) => {
      rewrite.created.push(record);
      rewrite.order.push(~(rewrite.created.length - 1));
      size.push(recordBytes(record));
    };
    for (const b of opened.sort((x, y) => x.hour - y.hour)) {
      if (b.changed) {
        report.rollupsWritten++;
        create(rollupRecord(b));
      } else if (typeof b.kept === "number") {
        rewrite.order.push(b.kept);
        size.push(sizes[b.kept]!);
      } else create(b.kept);
      time.push(b.hour);
    }
    fates.forEach((fate, i) => {
      if (fate !== Fate.Kept && fate !== Fate.Cert) return;
      rewrite.order.push(i);
      time.push(times[i]!);
      size.push(sizes[i]!);
    });
    return { rewrite, time, size };
  }

  /** Drops the oldest readable records until the file fits in `max_bytes`. */
  function capBytes({ rewrite, time, size }: ReturnType<typeof layOut>): ArrayRewrite {
    let total = size.reduce((a, b) => a + b, ARRAY_BYTES);
    report.bytesAfter = total;
    if (total <= retention.max_bytes) return rewrite;
    const readable = time.flatMap((t, i) => (Number.isNaN(t) ? [] : [i]));
    const dropped = new Uint8Array(time.length);
    for (const i of byTime(readable, (j) => time[j]!)) {
      if (total <= retention.max_bytes) break;
      dropped[i] = 1;
      report.capped++;
      total -= size[i]!;
    }
    report.bytesAfter = total;
    return { order: rewrite.order.filter((_, i) => dropped[i] === 0), created: rewrite.created };
  }

  /**
   * Rewriting costs the store's whole size, so it waits until there is a batch worth it: the oldest
   * raw sample `consolidate_every` past raw_days, or the oldest record that much past rollup_days,
   * or the store past max_bytes (with 0, any change is due at once).
   */
  function judgeDue(): void {
    const every = retention.consolidate_every * 1000;
    const from = (hour: number, days: number) => hour + HOUR_MS + days * DAY_MS + every;
    const dueAt = Math.min(from(oldestRaw, retention.raw_days), from(oldest, retention.rollup_days));
    report.dueAt = Number.isFinite(dueAt) ? dueAt : undefined;
    const changed = report.consolidated + report.expired + report.certDropped + report.capped > 0;
    const pressing = now >= dueAt || report.bytesBefore > retention.max_bytes || report.capped > 0 || every === 0;
    report.due = changed && pressing;
  }

  return {
    add(record, bytes) {
      fates.push(classify(record, fates.length));
      sizes.push(bytes);
      report.recordsBefore++;
      report.bytesBefore += bytes;
    },
    finish() {
      limitCert();
      const rewrite = capBytes(layOut());
      report.recordsAfter = rewrite.order.length;
      judgeDue();
      return { rewrite, report };
    },
  };
}

/** The whole cleanup of `records` held in memory, whether due or not (dry runs, tests). */
export function cleanupSamples(records: readonly unknown[], options: CleanupOptions): CleanupResult {
  const cleanup = startCleanup(options);
  for (const record of records) cleanup.add(record, recordBytes(record));
  const { rewrite, report } = cleanup.finish();
  return { records: rewrittenRecords(rewrite, records), report };
}
