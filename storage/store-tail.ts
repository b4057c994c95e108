import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import { ifExists } from "../lib/if-exists.js";
import { CLOSING, matchesWriteNote, parseJsonArray, parseWhole } from "./locked-file.js";

/**
 * Reading a store (system_logs.json or a remote copy) from where the last read stopped, when the
 * file was only appended to since. An append in place (locked-file.ts, appendInPlace) writes new
 * records past the closing line and then turns that line's "]" into ",", so the bytes before the
 * closing line stay as they were: the records before it need no parsing again. Anything else (a
 * rewrite by rename, an edit, a file that shrank or whose bytes before that line changed) is read
 * whole, as readJsonArray reads it. Either way the records are the ones a whole read would give.
 */

/** Where a read stopped, and the file it read: enough to tell an append from anything else. */
export interface StoreMark {
  /** The file's identity: a rewrite by rename is a new file, even when the inode number comes back. */
  dev: number;
  ino: number;
  birth: number;
  /** The file as it was read: when all three are unchanged, nothing was written since. */
  size: number;
  mtime: number;
  ctime: number;
  /** Byte offset of the closing line ("\n]") that ended the records read: the first one in the file. */
  end: number;
  /** How many records stand before `end`. */
  records: number;
  /** Hash of the bytes just before `end`, which an append never changes. */
  window: string;
}

export type StoreRead =
  | {
      from: "whole";
      /** Every record, as readJsonArray gives them ([] when the file does not exist). */
      records: unknown[];
      /** Why the mark given could not be used (absent when none was given). */
      reason?: string;
      /** Undefined when this file cannot be read from a mark (no record yet, or not in the one-record-a-line form). */
      mark?: StoreMark;
    }
  | {
      from: "tail";
      /** Only the records appended since the mark given. */
      records: unknown[];
      mark: StoreMark;
    };

const WINDOW_BYTES = 4096;
const LF = 0x0a;
const COMMA = 0x2c;
const CLOSE = 0x5d;
const JSON_SPACE = /^[ \t\n\r]*$/;

const hash = (bytes: Uint8Array) => createHash("sha1").update(bytes).digest("hex");

/**
 * Whether readJsonArray, meeting `rest` after the first closing line, returns the records before
 * it: whitespace JSON allows (a whole array), or anything String.trimEnd keeps (a torn append it
 * drops). Only Unicode spaces that JSON refuses make it throw instead.
 */
const restReadable = (rest: Buffer) => {
  const text = rest.toString("utf8");
  return JSON_SPACE.test(text) || text.trimEnd() !== "";
};

/**
 * The records after a closing line, pure: `tail` is the file from the mark's `end` (its "\n")
 * to the end of the file. Returns the records a whole read finds past the mark, and where the
 * first closing line now stands in `tail`; undefined when only a whole read can tell (then it is
 * read whole, which reports a corrupt file as such).
 *  - "\n]…": nothing appended, or an append cut short before its "," was written (dropped, as a
 *    whole read drops it);
 *  - "\n," then records up to the next closing line, then anything a whole read drops.
 */
export function parseAppended(file: string, tail: Buffer): { records: unknown[]; end: number } | undefined {
  if (tail[0] !== LF) return undefined;
  if (tail[1] === CLOSE) return restReadable(tail.subarray(2)) ? { records: [], end: 0 } : undefined;
  if (tail[1] !== COMMA) return undefined;
  const end = tail.indexOf(CLOSING, 2);
  if (end < 0 || !restReadable(tail.subarray(end + CLOSING.length))) return undefined;
  let records: unknown[];
  try {
    // What follows a "," is what may follow a "[", except "]" at once: "[…,\n]" is not JSON.
    records = parseWhole(file, `[${tail.subarray(2, end).toString("utf8")}${CLOSING}`);
  } catch {
    return undefined;
  }
  return records.length === 0 ? undefined : { records, end };
}

interface FileStat {
  dev: number;
  ino: number;
  birthtimeMs: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
}

/**
 * The mark of a file read whole (`bytes`, `records` found, of which `parsed` tells whether an
 * unfinished append was dropped), pure: undefined unless its records are exactly those before its
 * first closing line and there is at least one (an empty array is rewritten, never appended to in
 * place).
 */
export function markOf(
  stat: FileStat,
  bytes: Buffer,
  parsed: { records: number; tornTail?: string },
): StoreMark | undefined {
  const end = bytes.indexOf(CLOSING);
  if (end < 0 || parsed.records === 0) return undefined;
  // Read whole, the array must close at that line; cut short (a torn tail), it did by construction.
  if (parsed.tornTail === undefined && !JSON_SPACE.test(bytes.subarray(end + CLOSING.length).toString("latin1")))
    return undefined;
  return {
    dev: stat.dev,
    ino: stat.ino,
    birth: stat.birthtimeMs,
    size: stat.size,
    mtime: stat.mtimeMs,
    ctime: stat.ctimeMs,
    end,
    records: parsed.records,
    window: hash(bytes.subarray(Math.max(0, end - WINDOW_BYTES), end)),
  };
}

/** The bytes of an open file from `start` to its end as it is now (it may have grown since it was stat'ed). */
async function readFrom(handle: fs.FileHandle, start: number, size: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let position = start;
  for (let chunk = Buffer.alloc(Math.max(size - start, 0) + 65536); ; chunk = Buffer.alloc(65536)) {
    const { bytesRead } = await handle.read(chunk, 0, chunk.length, position);
    if (bytesRead === 0) break;
    chunks.push(chunk.subarray(0, bytesRead));
    position += bytesRead;
  }
  return Buffer.concat(chunks);
}

const untouched = (stat: FileStat, mark: StoreMark) =>
  stat.size === mark.size && stat.mtimeMs === mark.mtime && stat.ctimeMs === mark.ctime;

/** Why the file as it is now may not be read from `mark`, or undefined when it may (it was only appended to). */
async function markProblem(file: string, stat: FileStat, mark: StoreMark): Promise<string | undefined> {
  if (stat.dev !== mark.dev || stat.ino !== mark.ino || stat.birthtimeMs !== mark.birth) return "replaced";
  if (stat.size < mark.size) return "shrank";
  // Changed: only this module's own last write proves it was an append in place, not an edit.
  if (!untouched(stat, mark) && !(await matchesWriteNote(file, stat))) return "changed by another writer";
  return undefined;
}

async function readWhole(handle: fs.FileHandle, file: string, stat: FileStat, reason?: string): Promise<StoreRead> {
  const bytes = await readFrom(handle, 0, stat.size);
  const parsed = parseJsonArray(file, bytes.toString("utf8"));
  const mark = markOf(stat, bytes, { records: parsed.records.length, tornTail: parsed.tornTail });
  return { from: "whole", records: parsed.records, ...(reason ? { reason } : {}), mark };
}

/** The records appended since `mark`, or why a whole read must tell. */
async function readTail(handle: fs.FileHandle, file: string, stat: FileStat, mark: StoreMark) {
  const start = Math.max(0, mark.end - WINDOW_BYTES);
  const bytes = await readFrom(handle, start, stat.size);
  if (hash(bytes.subarray(0, mark.end - start)) !== mark.window) return "changed before the last read's end";
  const appended = parseAppended(file, bytes.subarray(mark.end - start));
  if (!appended) return "not an append";
  const end = mark.end + appended.end;
  const next: StoreMark = {
    ...mark,
    size: stat.size,
    mtime: stat.mtimeMs,
    ctime: stat.ctimeMs,
    end,
    records: mark.records + appended.records.length,
    window: hash(bytes.subarray(Math.max(0, end - WINDOW_BYTES) - start, end - start)),
  };
  return { from: "tail" as const, records: appended.records, mark: next };
}

/** The records appended to the store since `mark` and the mark after them, or why it must be read whole. */
export type StoreTail = { records: unknown[]; mark: StoreMark } | { reason: string };

/** Reads the store from `mark` as an open file, or says why the file must be read whole. */
async function tailOf(handle: fs.FileHandle, file: string, stat: FileStat, mark: StoreMark): Promise<StoreTail> {
  const problem = await markProblem(file, stat, mark);
  if (problem) return { reason: problem };
  if (untouched(stat, mark)) return { records: [], mark };
  const tail = await readTail(handle, file, stat, mark);
  return typeof tail === "string" ? { reason: tail } : tail;
}

/**
 * Only the records appended to the store since `mark`, for a reader that reads it whole its own
 * way otherwise (ams-graphs: readLightRecords); CorruptFileError as readJsonArray.
 */
export async function readStoreTail(file: string, mark: StoreMark): Promise<StoreTail> {
  const handle = await ifExists(() => fs.open(file, "r"), undefined);
  if (!handle) return { reason: "absent" };
  try {
    return await tailOf(handle, file, await handle.stat(), mark);
  } finally {
    await handle.close();
  }
}

/**
 * The store's records since `mark` (from: "tail"), or all of them (from: "whole") when there is no
 * mark or the file was not only appended to since; CorruptFileError as readJsonArray.
 */
export async function readStoreSince(file: string, mark: StoreMark | undefined): Promise<StoreRead> {
  const handle = await ifExists(() => fs.open(file, "r"), undefined);
  if (!handle) return { from: "whole", records: [], ...(mark ? { reason: "absent" } : {}) };
  try {
    const stat = await handle.stat();
    if (!mark) return await readWhole(handle, file, stat);
    const tail = await tailOf(handle, file, stat, mark);
    return "reason" in tail ? await readWhole(handle, file, stat, tail.reason) : { from: "tail", ...tail };
  } finally {
    await handle.close();
  }
}
