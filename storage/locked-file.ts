import fs from "node:fs/promises";
import path from "node:path";
import lockfile from "proper-lockfile";
import { writeFileAtomic } from "../lib/atomic-write.js";
import { fileStamp } from "../lib/time.js";

/**
 * A JSON array file shared by concurrent cron jobs (system_logs.json, alerts_log.json):
 * changed only under a proper-lockfile lock, always replaced atomically, never overwritten
 * when it cannot be parsed.
 */

// A lock whose holder died is taken over once its mtime is this old; live holders refresh it
// every STALE_MS / 2, so a killed job blocks the next one for a few seconds at most.
const STALE_MS = 5000;
const LOCK_OPTIONS = {
  realpath: false, // the file may not exist yet
  stale: STALE_MS,
  retries: { retries: 400, minTimeout: 5, maxTimeout: 50, randomize: true }, // ~10 s, > STALE_MS
};

export class CorruptFileError extends Error {
  override name = "CorruptFileError";
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`${file}: ${reason}`);
  }
}

/** Runs `fn` holding the file's lock (the folder `<file>.lock`). */
export async function withFileLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const release = await lockfile.lock(file, LOCK_OPTIONS);
  try {
    return await fn();
  } finally {
    await release();
  }
}

/** The file's records; [] when it does not exist; CorruptFileError when it is not a JSON array. */
export async function readJsonArray(file: string): Promise<unknown[]> {
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new CorruptFileError(file, `not valid JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(data)) throw new CorruptFileError(file, "not a JSON array");
  return data;
}

/** One record per line: close to compact JSON in size, and still readable with grep and tail. */
export function formatJsonArray(records: readonly unknown[]): string {
  return records.length === 0 ? "[]\n" : `[\n${records.map((r) => JSON.stringify(r)).join(",\n")}\n]\n`;
}

export interface UpdateResult {
  /** Where an unreadable file was moved before a fresh one was started. */
  movedAside?: string;
}

/**
 * Reads, changes and atomically rewrites the file under its lock. An unreadable file is renamed to
 * `<file>.corrupt-<stamp>` (never overwritten) and `change` starts from an empty array.
 */
export async function updateJsonArray(
  file: string,
  change: (records: unknown[]) => unknown[] | Promise<unknown[]>,
): Promise<UpdateResult> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  return withFileLock(file, async () => {
    let records: unknown[];
    let movedAside: string | undefined;
    try {
      records = await readJsonArray(file);
    } catch (err) {
      if (!(err instanceof CorruptFileError)) throw err;
      movedAside = `${file}.corrupt-${fileStamp(new Date())}`;
      await fs.rename(file, movedAside);
      records = [];
    }
    await writeFileAtomic(file, formatJsonArray(await change(records)));
    return { movedAside };
  });
}
