import fs from "node:fs/promises";
import path from "node:path";
import lockfile from "proper-lockfile";
import { writeFileAtomic } from "../lib/atomic-write.js";
import { readFileIfExists } from "../lib/if-exists.js";
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

function parseJsonArray(file: string, text: string): unknown[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new CorruptFileError(file, `not valid JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(data)) throw new CorruptFileError(file, "not a JSON array");
  return data;
}

/** The file's records; [] when it does not exist; CorruptFileError when it is not a JSON array. */
export async function readJsonArray(file: string): Promise<unknown[]> {
  const text = await readFileIfExists(file);
  return text === undefined ? [] : parseJsonArray(file, text);
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
 * A note beside the file of what this module last wrote (inode, size, mtime, ctime): while the
 * file still matches it, no one else has touched it since, so it is the valid array we wrote and an
 * append need not parse it again. Any other writer (an editor, a restore) changes the inode or the
 * ctime, which no tool can set back (unlike the mtime: cp -p, tar, rsync), and brings back the full
 * check. Losing the note costs one parse, nothing more.
 */
const noteFile = (file: string) => `${file}.written`;
const identity = (stat: { ino: number; size: number; mtimeMs: number; ctimeMs: number }) =>
  `${stat.ino}:${stat.size}:${stat.mtimeMs}:${stat.ctimeMs}`;

async function writeNoted(file: string, data: string | Uint8Array): Promise<void> {
  const { ino } = await writeFileAtomic(file, data);
  const stat = await fs.stat(file);
  // Someone outside the lock replaced the file since our rename: describe nothing rather than their file.
  if (stat.ino === ino) await fs.writeFile(noteFile(file), identity(stat));
  else await fs.rm(noteFile(file), { force: true });
}

async function unchangedSinceWritten(file: string): Promise<boolean> {
  try {
    const [stat, note] = await Promise.all([fs.stat(file), fs.readFile(noteFile(file), "utf8")]);
    return note === identity(stat);
  } catch {
    return false;
  }
}

/**
 * Under the file's lock: reads and parses it (an unreadable file is renamed to
 * `<file>.corrupt-<stamp>`, never overwritten, and reads as empty), asks `rewrite` for the new text
 * and atomically replaces the file with it; undefined from `rewrite` leaves the file as it is.
 */
async function rewriteLocked(
  file: string,
  rewrite: (records: unknown[], text: string) => Promise<string | Uint8Array | undefined>,
): Promise<UpdateResult> {
  let text = (await readFileIfExists(file)) ?? "[]";
  let records: unknown[];
  let movedAside: string | undefined;
  try {
    records = parseJsonArray(file, text);
  } catch (err) {
    if (!(err instanceof CorruptFileError)) throw err;
    movedAside = `${file}.corrupt-${fileStamp(new Date())}`;
    await fs.rename(file, movedAside);
    [records, text] = [[], "[]"];
  }
  const next = await rewrite(records, text);
  if (next !== undefined) await writeNoted(file, next);
  return { movedAside };
}

async function underLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  return withFileLock(file, fn);
}

/** Reads, changes and atomically rewrites the whole array under the lock (cleanup, restore). */
export function updateJsonArray(
  file: string,
  change: (records: unknown[]) => unknown[] | Promise<unknown[]>,
): Promise<UpdateResult> {
  return underLock(file, () => rewriteLocked(file, async (records) => formatJsonArray(await change(records))));
}

/** The file's exact text read under its lock (never a half-replaced file), or undefined when absent. For backups. */
export function readTextLocked(file: string): Promise<string | undefined> {
  return underLock(file, () => readFileIfExists(file));
}

/**
 * Under the file's lock: `before()` (a restore copies the current file aside there), then the file
 * is replaced whole by `text`, a JSON array already checked by the caller, or removed when null.
 */
export function replaceJsonArrayText(file: string, text: string | null, before: () => Promise<void>): Promise<void> {
  return underLock(file, async () => {
    await before();
    if (text === null) await fs.rm(file, { force: true });
    else await writeNoted(file, text);
  });
}

const recordLines = (records: readonly unknown[]) => records.map((r) => JSON.stringify(r)).join(",\n");

/** The array's text with `added` before its closing "]"; `text` is known to be a JSON array. */
function withAppended(text: Buffer, added: readonly unknown[]): Buffer {
  let end = text.lastIndexOf("]");
  while (end > 0 && /\s/.test(String.fromCharCode(text[end - 1]!))) end--;
  const empty = text.subarray(0, end).toString("latin1").trim() === "[";
  return Buffer.concat([text.subarray(0, end), Buffer.from(`${empty ? "\n" : ",\n"}${recordLines(added)}\n]\n`)]);
}

/**
 * Appends records under the lock, keeping the existing text as it is rather than re-serialising
 * it. `additions` is either the records, or a function that picks them from the current ones (to
 * skip duplicates). A file this module wrote last and nobody touched since is spliced as bytes;
 * any other is parsed first, so that a corrupt one is moved aside, never written over.
 */
export function appendJsonArray(
  file: string,
  additions: readonly unknown[] | ((records: unknown[]) => readonly unknown[]),
): Promise<UpdateResult> {
  return underLock(file, async () => {
    if (typeof additions !== "function" && (await unchangedSinceWritten(file))) {
      if (additions.length > 0) await writeNoted(file, withAppended(await fs.readFile(file), additions));
      return {};
    }
    return rewriteLocked(file, (records, text) => {
      const added = typeof additions === "function" ? additions(records) : additions;
      return Promise.resolve(added.length === 0 ? undefined : withAppended(Buffer.from(text), added));
    });
  });
}
