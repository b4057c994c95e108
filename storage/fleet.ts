import path from "node:path";
import type { Paths } from "../lib/paths.js";
import { readLightRecords, StoreBuffer, type LightFold } from "./light-records.js";
import { normalizeRecord, type Sample } from "./sample.js";
import { speaksFor, type Speaker } from "./speaks-for.js";
import { readStoreTail, type StoreMark } from "./store-tail.js";

/** Where samples came from: this server's store or one remote's last good copy. */
export interface FleetSource {
  /** "local", or the remote's configured name. */
  name: string;
  file: string;
  samples: number;
  /** Records that fit no known form. */
  skipped: number;
  /** A remote's records naming a server it may not speak for (speaks-for.ts), also skipped. */
  foreign?: number;
  error?: string;
}

export interface Fleet {
  samples: Sample[];
  sources: FleetSource[];
}

/** The config keys that say which stores make the fleet: this server's name and the remotes pulled. */
export interface FleetConfig {
  server_id: string;
  remotes: readonly Speaker[];
}

/** Where ams-fetch-remote keeps the last good copy of a remote's store. */
export const remoteCopy = (paths: Paths, name: string) => path.join(paths.remoteDir, `${name}_logs.json`);

export interface FleetStore {
  name: string;
  file: string;
  /** The server_id of records lacking one. */
  fallbackId: string;
  /** A remote's copy speaks for that remote only (speaks-for.ts); absent for this server's own store. */
  speaker?: Speaker;
}

/** How a store's records are read (store-mark-schema.ts StoreReadingFields): kept by readers that go on from a mark. */
export interface StoreReading {
  file: string;
  fallback_id: string;
  speaks_for: string[] | null;
}

export function storeReading(store: FleetStore): StoreReading {
  const { speaker } = store;
  return {
    file: store.file,
    fallback_id: store.fallbackId,
    speaks_for: speaker ? [speaker.name, ...(speaker.may_speak_for ?? [])] : null,
  };
}

/** Whether what a reader kept of a store was read as the config now says to read it. */
export function readAsNow(kept: StoreReading, store: FleetStore): boolean {
  const now = storeReading(store);
  return (
    kept.file === now.file &&
    kept.fallback_id === now.fallback_id &&
    JSON.stringify(kept.speaks_for) === JSON.stringify(now.speaks_for)
  );
}

/** The stores the fleet is read from: this server's, then the last good copy of each configured remote. */
export function fleetStores(paths: Paths, config: FleetConfig): FleetStore[] {
  return [
    { name: "local", file: paths.store, fallbackId: config.server_id },
    ...config.remotes.map((r) => ({ name: r.name, file: remoteCopy(paths, r.name), fallbackId: r.name, speaker: r })),
  ];
}

/** What a whole read of a fleet store counts (FleetSource's counts, `foreign` always present). */
export interface StoreCounts {
  samples: number;
  skipped: number;
  foreign: number;
}

/** The source readFleet reports for a store with these counts, or that could not be read. */
export function fleetSource(store: FleetStore, read: StoreCounts | { error: string }): FleetSource {
  const { name, file } = store;
  if ("error" in read) return { name, file, samples: 0, skipped: 0, error: read.error };
  const { foreign, samples, skipped } = read;
  return { name, file, samples, skipped, ...(foreign > 0 ? { foreign } : {}) };
}

/** What a record of a store gives the fleet: a sample, or why not (no known form; a server its remote may not speak for). */
export type StoreRecord = Sample | "skipped" | "foreign";

/** The reading of one store's records: its own samples, normalised (normalizeRecord), less those its remote may not speak for. */
export function storeRecordReader(store: Pick<FleetStore, "fallbackId" | "speaker">): (record: unknown) => StoreRecord {
  const allowed = store.speaker && speaksFor(store.speaker);
  return (record) => {
    const sample = normalizeRecord(record, store.fallbackId);
    if (!sample) return "skipped";
    return allowed && !allowed(sample.server_id) ? "foreign" : sample;
  };
}

/** Counts what a record gave in `counts`; true when it is a sample. */
function counted(counts: StoreCounts, got: StoreRecord): got is Sample {
  if (got === "skipped") counts.skipped++;
  else if (got === "foreign") counts.foreign++;
  else counts.samples++;
  return typeof got !== "string";
}

/** The samples a store gives the fleet: its readable records, less those its remote may not speak for. */
export function storeSamples(
  records: readonly unknown[],
  store: Pick<FleetStore, "fallbackId" | "speaker">,
): { samples: Sample[]; skipped: number; foreign: number } {
  const read = storeRecordReader(store);
  const samples: Sample[] = [];
  const counts = { samples: 0, skipped: 0, foreign: 0 };
  for (const record of records) {
    const got = read(record);
    if (counted(counts, got)) samples.push(got);
  }
  return { samples, skipped: counts.skipped, foreign: counts.foreign };
}

/**
 * Every server's samples through one reader: this server's store and the last good copy of each
 * remote in the config (records lacking a server_id are tagged with the remote's name; records
 * naming a server the remote may not speak for are skipped, see speaks-for.ts). A remote
 * taken out of the config leaves the pages, /metrics and the alert rules, though its last copy
 * stays on disk. A source that cannot be read is reported in `sources` and the others are still
 * returned; a remote not pulled yet reads as empty.
 */
export async function readFleet(paths: Paths, config: FleetConfig): Promise<Fleet> {
  const samples: Sample[] = [];
  const sources = await forEachFleetSource(paths, config, () => {
    const own: Sample[] = [];
    return {
      add: (_sample, whole) => own.push(whole()),
      finish: () => {
        for (const sample of own) samples.push(sample); // a spread would overflow the stack past ~110k
      },
    };
  });
  return { samples, sources };
}

/** How a source's samples came to its fold: the whole store, or only what was appended since a resumed fold's mark. */
export interface SourceRead {
  from: "whole" | "tail";
  /** The whole store's counts, as a whole read gives them. */
  counts: StoreCounts;
  /** Where a later read of only what is appended may start; undefined when the store cannot be read so. */
  mark?: StoreMark;
  /** Why the store of a resumed fold was read whole. */
  reason?: string;
}

/**
 * What takes one source's samples as they are read, in file order; `finish` once the whole source
 * was read, awaited before the next source is read. A source read again from its start
 * (readLightRecords) gets a fresh one, and one that cannot be read is never finished.
 */
export interface SourceFold {
  /** `sample` may lack its details (readLightRecords); `whole()` gives it with them. */
  add(sample: Sample, whole: () => Sample): void;
  finish(read: SourceRead): void | Promise<void>;
}

/** A fold that already holds a store's samples up to `mark` (kept by its owner between runs), and their counts. */
export interface ResumedFold {
  fold: SourceFold;
  mark: StoreMark;
  counts: StoreCounts;
}

/** What the fold of a source threw, not its reading: it fails the caller rather than marking the source unreadable. */
class FoldFailed extends Error {
  constructor(override readonly cause: unknown) {
    super("a source's fold failed");
  }
}

/** A LightFold feeding a source's samples to `fold` and counting its records from `base`. */
function feeding(
  store: FleetStore,
  fold: SourceFold,
  base?: StoreCounts,
): LightFold<{ fold: SourceFold; counts: StoreCounts }> {
  const read = storeRecordReader(store);
  const counts = { samples: 0, skipped: 0, foreign: 0, ...base };
  return {
    add: (record, full) => {
      const got = read(record);
      if (!counted(counts, got)) return;
      try {
        fold.add(got, () => {
          const whole = full();
          return whole === record ? got : (read(whole) as Sample);
        });
      } catch (err) {
        throw new FoldFailed(err);
      }
    },
    finish: () => ({ fold, counts }),
  };
}

/**
 * readFleet one source at a time, without holding a source's records: each readable source's
 * samples go to a fold of `startSource` as they are read, in the same order, so a reader that
 * keeps only what it needs holds a few records at a time. With `resume`, a source whose earlier
 * fold it gives back is read from that fold's mark (store-tail.ts): only the records appended
 * since go to that fold, or, when the store was not only appended to, the whole store to a fresh one.
 */
export async function forEachFleetSource(
  paths: Paths,
  config: FleetConfig,
  startSource: (store: FleetStore) => SourceFold,
  resume?: (store: FleetStore) => Promise<ResumedFold | undefined>,
): Promise<FleetSource[]> {
  const sources: FleetSource[] = [];
  // Each source's fold is finished before the next source is read into the buffer.
  const buffer = new StoreBuffer();
  for (const store of fleetStores(paths, config)) {
    const resumed = await resume?.(store);
    let done: { fold: SourceFold; counts: StoreCounts };
    let how: Omit<SourceRead, "counts">;
    try {
      const tail = resumed && (await readStoreTail(store.file, resumed.mark));
      if (tail && "records" in tail) {
        const fold = feeding(store, resumed.fold, resumed.counts);
        for (const record of tail.records) fold.add(record, () => record);
        done = fold.finish();
        how = { from: "tail", mark: tail.mark };
      } else {
        const whole = await readLightRecords(store.file, () => feeding(store, startSource(store)), buffer);
        done = whole.result;
        how = { from: "whole", ...(whole.mark ? { mark: whole.mark } : {}), ...(tail ? { reason: tail.reason } : {}) };
      }
    } catch (err) {
      if (err instanceof FoldFailed) throw err.cause;
      sources.push(fleetSource(store, { error: (err as Error).message }));
      continue;
    }
    sources.push(fleetSource(store, done.counts));
    await done.fold.finish({ ...how, counts: done.counts });
  }
  return sources;
}
