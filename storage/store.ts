import {
  appendJsonArray,
  foldJsonArray,
  readJsonArray,
  type ArrayRewrite,
  type RecordFold,
  type UpdateResult,
} from "./locked-file.js";
import { normalizeRecord, sampleProblem, type Sample } from "./sample.js";

/**
 * The samples store: the only code that reads or writes system_logs.json (and the remote copies,
 * which have the same format). Writes are validated, locked and atomic; reads are lock-free because
 * the file is only ever replaced by rename.
 */

export class InvalidSampleError extends Error {
  override name = "InvalidSampleError";
}

export interface AppendOptions {
  /** Records whose key is already stored (or repeated in the batch) are not stored again. */
  dedupeKey?: (sample: Sample) => string | undefined;
  /** Tags legacy records lacking a server_id while computing dedupe keys. */
  fallbackServerId?: string;
}

export interface AppendResult extends UpdateResult {
  added: Sample[];
}

function validate(samples: readonly Sample[]): void {
  samples.forEach((sample, index) => {
    const problem = sampleProblem(sample);
    if (problem) throw new InvalidSampleError(`sample ${index} (${sample.metric_type}): ${problem}`);
  });
}

export async function appendSamples(
  file: string,
  samples: readonly Sample[],
  options: AppendOptions = {},
): Promise<AppendResult> {
  validate(samples);
  const { dedupeKey, fallbackServerId = "unknown" } = options;
  if (!dedupeKey) return { added: [...samples], ...(await appendJsonArray(file, samples)) };
  let added: Sample[] = [];
  const update = await appendJsonArray(file, (records) => {
    const seen = new Set<string>();
    for (const raw of records) {
      const sample = normalizeRecord(raw, fallbackServerId);
      const key = sample && dedupeKey(sample);
      if (key !== undefined) seen.add(key);
    }
    added = samples.filter((sample) => {
      const key = dedupeKey(sample);
      if (key === undefined) return true;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    return added;
  });
  return { added, ...update };
}

export interface ReadResult {
  samples: Sample[];
  /** Records that fit neither the AMS form nor the original AMS form. */
  skipped: number;
}

/** All readable samples of a store file (local or remote copy), in file order. */
export async function readSamples(file: string, fallbackServerId: string): Promise<ReadResult> {
  return samplesOf(await readJsonArray(file), fallbackServerId);
}

/** The readable samples among a store's records, in their order, and how many fit no known form. */
export function samplesOf(records: readonly unknown[], fallbackServerId: string): ReadResult {
  const samples: Sample[] = [];
  let skipped = 0;
  for (const raw of records) {
    const sample = normalizeRecord(raw, fallbackServerId);
    if (sample) samples.push(sample);
    else skipped++;
  }
  return { samples, skipped };
}

/**
 * Replaces the store's records under the store lock, atomically (a reader or a job killed half-way
 * sees the old file or the new one): `startFold` gets the raw records (any form) one at a time, and
 * `rewriteOf` says what to write from its result, records it does not touch being written back as
 * they were; undefined leaves the file as it is (a store that changed nothing is not written again).
 */
export function rewriteSamples<T>(
  file: string,
  startFold: () => RecordFold<T>,
  rewriteOf: (result: T) => ArrayRewrite | undefined,
): Promise<{ result: T } & UpdateResult> {
  return foldJsonArray(file, startFold, rewriteOf);
}
