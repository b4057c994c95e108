import fs, { type FileHandle } from "node:fs/promises";
import path from "node:path";
import { acquireDirLock, LockBusyError } from "../lib/dir-lock.js";
import { uniqueTemp, writeFileAtomic, type ContentWriter } from "../lib/atomic-write.js";
import { readFileIfExists } from "../lib/if-exists.js";
import { processAlive } from "../lib/process-identity.js";
import { fileStamp } from "../lib/time.js";
import { statIdentity } from "./file-identity.js";

/**
 * A JSON array file shared by concurrent cron jobs (system_logs.json, alerts_log.json):
 * changed only under a lock (lib/dir-lock.ts), always replaced atomically, never overwritten
 * when it cannot be parsed.
 */

// A lock whose holder died is taken over once its mtime is this old. Live holders refresh it every
// UPDATE_MS from a timer, so only a holder stalled for STALE_MS (stopped, or starved far beyond
// what a loaded cron host does) loses it; a killed job blocks the next ones for STALE_MS at most.
const STALE_MS = 20_000;
const UPDATE_MS = 2_000;
// Waiting for the lock: about 30 s, past STALE_MS, so a dead holder's lock is taken over in time.
const WAIT_SECONDS = 30;
const LOCK_OPTIONS = { staleMs: STALE_MS, updateMs: UPDATE_MS, waitMs: WAIT_SECONDS * 1000 };

export class CorruptFileError extends Error {
  override name = "CorruptFileError";
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`${file}: ${reason}`);
  }
}

/** The lock was declared stale and taken over while this job held it: the job stops without writing. */
export class LockLostError extends Error {
  override name = "LockLostError";
  constructor(file: string, reason: string) {
    super(`lost the store lock ${file}.lock (${reason})`);
  }
}

/**
 * Who holds the lock now: each holder writes a token of its own here as soon as it has the lock and
 * before it reads the file, and checks it is still there just before and just after replacing the
 * file. A holder whose lock was taken over (it stalled past STALE_MS) thus never renames over the
 * new holder's file, and one whose rename may have raced a new holder's read reports a failure. It
 * lives beside the lock folder, not in it, so that taking over a dead holder's lock stays one rmdir.
 */
const ownerFile = (file: string) => `${file}.lock-owner`;

/** Throws LockLostError unless the lock taken by withFileLock is still this job's. */
export type AssertLockHeld = () => Promise<void>;

/** Runs `fn` holding the file's lock (the folder `<file>.lock`). */
export async function withFileLock<T>(file: string, fn: (assertHeld: AssertLockHeld) => Promise<T>): Promise<T> {
  let compromised: Error | undefined;
  let release: () => Promise<void>;
  try {
    release = await acquireDirLock(`${file}.lock`, {
      ...LOCK_OPTIONS,
      onCompromised: (err) => void (compromised = err),
    });
  } catch (err) {
    if (!(err instanceof LockBusyError)) throw err;
    throw new Error(`${file}: still locked by another job after ${WAIT_SECONDS} s; nothing written`, { cause: err });
  }
  // Unique among the writers, not secret: Math.random spares each run loading node:crypto.
  const token = `${process.pid}-${process.hrtime.bigint()}-${Math.random().toString(36).slice(2)}`;
  // A full disk may refuse even the token: the job may still read under the lock, but not write.
  const tokenError = await fs.writeFile(ownerFile(file), token).then(
    () => undefined,
    (err: unknown) => err as Error,
  );
  const owned = async () => (await readFileIfExists(ownerFile(file)).catch(() => undefined)) === token;
  const assertHeld = async () => {
    if (compromised) throw new LockLostError(file, compromised.message);
    if (tokenError) throw tokenError;
    if (!(await owned())) throw new LockLostError(file, "another job took it over");
  };
  try {
    const result = await fn(assertHeld);
    if (compromised) throw new LockLostError(file, compromised.message);
    return result;
  } finally {
    // Never remove a lock that is someone else's now.
    if (!compromised && (tokenError || (await owned()))) await release();
  }
}

/**
 * Deeper than any record AMS writes (a sample's details nest a few levels). JSON.parse takes any
 * depth, but JSON.stringify and every recursive reader overflow the stack on a record like
 * `[[[[…]]]]` 500k levels deep, so such a file is refused as a whole, like invalid JSON.
 */
export const MAX_RECORD_DEPTH = 100;

/**
 * Whether `value` nests objects or arrays more than `max` levels deep. The recursion stops at
 * `max` levels, so a record of any depth is measured without overflowing the stack.
 */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  if (typeof value !== "object" || value === null) return false;
  if (max === 0) return true;
  if (Array.isArray(value)) return value.some((child) => nestedDeeperThan(child, max - 1));
  for (const key in value) if (nestedDeeperThan((value as Record<string, unknown>)[key], max - 1)) return true;
  return false;
}

/** The records of `text`, which must be one whole JSON array (no unfinished tail); CorruptFileError otherwise. */
export function parseWhole(file: string, text: string): unknown[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new CorruptFileError(file, `not valid JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(data)) throw new CorruptFileError(file, "not a JSON array");
  const deep = data.findIndex((record) => nestedDeeperThan(record, MAX_RECORD_DEPTH));
  if (deep >= 0) throw new CorruptFileError(file, `record ${deep} nests more than ${MAX_RECORD_DEPTH} levels deep`);
  return data;
}

/** The closing line of an array written by this module: the only "]" at the start of a line (records hold no line break). */
export const CLOSING = "\n]";

export interface ParsedArray {
  records: unknown[];
  /** The text the records were read from: the file's, or its last complete state when an append was cut short. */
  text: string;
  /** The bytes of an unfinished append past that state (see appendInPlace), dropped. */
  tornTail?: string;
}

/**
 * The records of the file's text. An append cut short (a crash, SIGKILL) leaves the last complete
 * array followed by part of the next records (appendInPlace): that array is what the file holds,
 * so readers read it and the next writer writes the file back without the tail.
 */
export function parseJsonArray(file: string, text: string): ParsedArray {
  try {
    return { records: parseWhole(file, text), text };
  } catch (err) {
    const end = text.indexOf(CLOSING);
    if (end < 0 || end + CLOSING.length === text.trimEnd().length) throw err;
    const complete = `${text.slice(0, end + CLOSING.length)}\n`;
    try {
      return { records: parseWhole(file, complete), text: complete, tornTail: text.slice(end + CLOSING.length) };
    } catch {
      throw err;
    }
  }
}

/** The file's records; [] when it does not exist; CorruptFileError when it is not a JSON array. */
export async function readJsonArray(file: string): Promise<unknown[]> {
  const text = await readFileIfExists(file);
  return text === undefined ? [] : parseJsonArray(file, text).records;
}

/** One record per line: close to compact JSON in size, and still readable with grep and tail. */
export function formatJsonArray(records: readonly unknown[]): string {
  return records.length === 0 ? "[]\n" : `[\n${records.map((r) => JSON.stringify(r)).join(",\n")}\n]\n`;
}

/** Bytes one record takes in formatJsonArray's layout (its line and the ",\n" after it). */
export const recordBytes = (record: unknown) => Buffer.byteLength(JSON.stringify(record)) + 2;

export interface UpdateResult {
  /** Where an unreadable file was moved before a fresh one was started. */
  movedAside?: string;
  /** Where the unfinished tail of an append cut short (a crash) was kept when the file was written back without it. */
  tornTailKept?: string;
  /** Why it could not be read (the file's name and the parse error). */
  readError?: string;
}

/**
 * A note beside the file of what this module last wrote (inode, size, mtime, ctime): while the
 * file still matches it, no one else has touched it since, so it is the valid array we wrote and an
 * append need not parse it again. Any other writer (an editor, a restore) changes the inode or the
 * ctime, which no tool can set back (unlike the mtime: cp -p, tar, rsync), and brings back the full
 * check. Losing the note costs one parse, nothing more.
 */
const noteFile = (file: string) => `${file}.written`;

/**
 * Temporary files of writers killed half-way (`<name>.<pid>-<n>.tmp`, whose process is gone), and
 * the one fixed name older versions used: removed by the next lock holder so they cannot pile up.
 */
async function removeDeadWritersTemps(file: string): Promise<void> {
  const base = path.basename(file);
  const prefix = `${base}.`;
  for (const name of await fs.readdir(path.dirname(file))) {
    if (!name.startsWith(prefix) || !name.endsWith(".tmp")) continue;
    const pid = /^(\d+)-\d+\.tmp$/.exec(name.slice(prefix.length))?.[1];
    if (pid !== undefined && processAlive(Number(pid))) continue;
    await fs.rm(path.join(path.dirname(file), name), { force: true });
  }
}

/** Replaces the file (under its lock, which `assertHeld` checks just before the rename) and notes what was written. */
async function writeNoted(
  file: string,
  data: string | Uint8Array | ContentWriter,
  assertHeld: AssertLockHeld,
): Promise<void> {
  await removeDeadWritersTemps(file);
  const { ino } = await writeFileAtomic(file, data, { temp: uniqueTemp(file), beforeRename: assertHeld });
  // A holder that took the lock over during the rename may have read the file just before it: then
  // this write may be lost, and the job must not report success.
  await assertHeld();
  // Someone outside the lock replaced the file since our rename: describe nothing rather than their file.
  await noteWritten(file, ino);
}

/** Whether `stat` (of the file now) is what this module last wrote: nobody else touched the file since. */
export async function matchesWriteNote(file: string, stat: Parameters<typeof statIdentity>[0]): Promise<boolean> {
  return (await readFileIfExists(noteFile(file)).catch(() => undefined)) === statIdentity(stat);
}

async function unchangedSinceWritten(file: string): Promise<boolean> {
  try {
    return await matchesWriteNote(file, await fs.stat(file));
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
  assertHeld: AssertLockHeld,
  rewrite: (records: unknown[], text: string) => Promise<string | Uint8Array | undefined>,
): Promise<UpdateResult> {
  let parsed: ParsedArray;
  let movedAside: string | undefined;
  let readError: string | undefined;
  let tornTailKept: string | undefined;
  try {
    parsed = parseJsonArray(file, (await readFileIfExists(file)) ?? "[]");
  } catch (err) {
    if (!(err instanceof CorruptFileError)) throw err;
    readError = err.message;
    movedAside = `${file}.corrupt-${fileStamp(new Date())}`;
    await assertHeld();
    await fs.rename(file, movedAside);
    parsed = { records: [], text: "[]" };
  }
  let next = await rewrite(parsed.records, parsed.text);
  if (parsed.tornTail !== undefined) {
    // Nothing is dropped unseen: the bytes of the unfinished append go beside the file.
    tornTailKept = `${file}.torn-${fileStamp(new Date())}`;
    await fs.writeFile(tornTailKept, parsed.tornTail);
    next ??= parsed.text;
  }
  if (next !== undefined) await writeNoted(file, next, assertHeld);
  return { movedAside, readError, tornTailKept };
}

async function underLock<T>(file: string, fn: (assertHeld: AssertLockHeld) => Promise<T>): Promise<T> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  return withFileLock(file, fn);
}

/**
 * Reads, changes and atomically rewrites the whole array under the lock (cleanup, restore);
 * `change` returning undefined leaves the file as it is.
 */
export function updateJsonArray(
  file: string,
  change: (records: unknown[]) => unknown[] | undefined | Promise<unknown[] | undefined>,
): Promise<UpdateResult> {
  return underLock(file, (assertHeld) =>
    rewriteLocked(file, assertHeld, async (records) => {
      const changed = await change(records);
      return changed && formatJsonArray(changed);
    }),
  );
}

/** Consumes an array's records one at a time, in file order (foldJsonArray). */
export interface RecordFold<T> {
  /** `bytes`: what the record takes in formatJsonArray's layout (recordBytes). */
  add(record: unknown, bytes: number): void;
  finish(): T;
}

/**
 * What to write in place of an array: the records in `order`, each the index of a record read
 * (written back as the very text it was read from) or `~k` for `created[k]`.
 */
export interface ArrayRewrite {
  order: number[];
  created: unknown[];
}

/** The records `rewrite` describes, from the records read. */
export const rewrittenRecords = (rewrite: ArrayRewrite, records: readonly unknown[]): unknown[] =>
  rewrite.order.map((i) => (i >= 0 ? records[i] : rewrite.created[~i]));

/** The pieces a big file is read and written in: few system calls, little memory. */
const PIECE = 1 << 20;
/** Longer than any record AMS writes: a file with such a line is read whole instead (compact JSON on one line). */
const MAX_LINE = 16 << 20;
const [NEWLINE, COMMA, OPEN, CLOSE] = [10, 44, 91, 93];

/** Where each record's JSON text lies in the file: byte offsets, the end excluded. */
interface RecordSpans {
  starts: number[];
  ends: number[];
}

/**
 * Reads a file laid out as formatJsonArray and appendInPlace write it ("[", one record per line,
 * lines holding only ",", "]") piece by piece, handing each record to `fold` as it is parsed, so
 * the file is never held whole. Undefined as soon as the file turns out laid out otherwise (an
 * editor's layout, a torn append, invalid JSON, a record nested too deep): it is then read whole,
 * which also says what is wrong with it.
 */
async function foldRecordLines(handle: FileHandle, fold: RecordFold<unknown>): Promise<RecordSpans | undefined> {
  const spans: RecordSpans = { starts: [], ends: [] };
  // The line expected next: "[" first, then a record (or "]" for an empty array), then a comma
  // (at the end of the record's line or on a line of its own) or "]", then nothing.
  let expect = "[" as "[" | "first" | "record" | "comma" | "end";
  const line = (buf: Buffer, start: number, end: number, offset: number): boolean => {
    const only = (char: number) => end - start === 1 && buf[start] === char;
    if (expect === "end") return false;
    if (expect === "[") {
      expect = "first";
      return only(OPEN);
    }
    if (only(CLOSE)) {
      const ok = expect !== "record";
      expect = "end";
      return ok;
    }
    if (only(COMMA) || expect === "comma") {
      const ok = expect === "comma" && only(COMMA);
      expect = "record";
      return ok;
    }
    const comma = buf[end - 1] === COMMA;
    const textEnd = comma ? end - 1 : end;
    let record: unknown;
    try {
      record = JSON.parse(buf.toString("utf8", start, textEnd));
    } catch {
      return false;
    }
    if (nestedDeeperThan(record, MAX_RECORD_DEPTH)) return false;
    fold.add(record, textEnd - start + 2);
    spans.starts.push(offset + start);
    spans.ends.push(offset + textEnd);
    expect = comma ? "record" : "comma";
    return true;
  };
  // One buffer, read into after the unfinished line the last read left at its start.
  let buf = Buffer.allocUnsafe(PIECE);
  let filled = 0;
  /** File offset of buf[0]. */
  let offset = 0;
  for (;;) {
    if (filled === buf.length) {
      if (buf.length >= MAX_LINE) return undefined;
      const bigger = Buffer.allocUnsafe(2 * buf.length);
      buf.copy(bigger);
      buf = bigger;
    }
    const { bytesRead } = await handle.read(buf, filled, buf.length - filled, offset + filled);
    if (bytesRead === 0) break;
    const read = buf.subarray(0, filled + bytesRead);
    if (offset === 0 && read[0] !== OPEN) return undefined;
    let start = 0;
    for (let end = read.indexOf(NEWLINE, filled); end >= 0; end = read.indexOf(NEWLINE, start)) {
      if (!line(read, start, end, offset)) return undefined;
      start = end + 1;
    }
    buf.copyWithin(0, start, read.length);
    filled = read.length - start;
    offset += start;
  }
  if (filled > 0 && !line(buf, 0, filled, offset)) return undefined;
  return expect === "end" ? spans : undefined;
}

/** Bytes and text gathered into pieces before they are written. */
class PieceWriter {
  private readonly piece = Buffer.allocUnsafe(PIECE);
  private used = 0;
  constructor(private readonly handle: FileHandle) {}

  async write(data: string | Buffer): Promise<void> {
    const length = typeof data === "string" ? Buffer.byteLength(data) : data.length;
    if (this.used + length > PIECE) await this.flush();
    if (length > PIECE) await this.writeAll(typeof data === "string" ? Buffer.from(data) : data);
    else if (typeof data === "string") this.used += this.piece.write(data, this.used);
    else this.used += data.copy(this.piece, this.used);
  }

  async flush(): Promise<void> {
    await this.writeAll(this.piece.subarray(0, this.used));
    this.used = 0;
  }

  /** A write may take fewer bytes than it was given. */
  private async writeAll(bytes: Buffer): Promise<void> {
    for (let done = 0; done < bytes.length;) {
      const { bytesWritten } = await this.handle.write(bytes, done, bytes.length - done);
      if (bytesWritten === 0) throw new Error("nothing could be written");
      done += bytesWritten;
    }
  }
}

/**
 * Writes the array `rewrite` describes in formatJsonArray's layout: created records as JSON, the
 * records read as the bytes they were read from (`source`, mostly in file order, read piece by piece).
 */
function writeRewrite(source: FileHandle, spans: RecordSpans, rewrite: ArrayRewrite): ContentWriter {
  let space = Buffer.allocUnsafe(PIECE);
  /** The part of the file last read into `space`. */
  let window = space.subarray(0, 0);
  let windowStart = 0;
  const textOf = async (i: number): Promise<Buffer> => {
    const [start, end] = [spans.starts[i]!, spans.ends[i]!];
    if (start < windowStart || end > windowStart + window.length) {
      if (end - start > space.length) space = Buffer.allocUnsafe(end - start);
      window = space.subarray(0, (await source.read(space, 0, space.length, start)).bytesRead);
      windowStart = start;
      if (window.length < end - start) throw new Error("the file shrank while it was rewritten under its lock");
    }
    return window.subarray(start - windowStart, end - windowStart);
  };
  return async (target) => {
    const out = new PieceWriter(target);
    if (rewrite.order.length === 0) await out.write("[]\n");
    else {
      await out.write("[\n");
      for (const [k, i] of rewrite.order.entries()) {
        if (k > 0) await out.write(",\n");
        await out.write(i >= 0 ? await textOf(i) : JSON.stringify(rewrite.created[~i]));
      }
      await out.write("\n]\n");
    }
    await out.flush();
  };
}

/**
 * Under the file's lock: folds its records one at a time (a fold from `startFold`), and replaces
 * the file atomically with what `rewriteOf` makes of the fold's result (undefined leaves the file as
 * it is). A file as this module writes it is streamed both ways, records kept being written back
 * as the very bytes they were read from: a big store is never held whole nor serialised again.
 * Any other file is read whole (rewriteLocked: a corrupt one is moved aside, a torn append's tail
 * kept beside), and the fold starts over on its records, to the same result.
 */
export function foldJsonArray<T>(
  file: string,
  startFold: () => RecordFold<T>,
  rewriteOf: (result: T) => ArrayRewrite | undefined,
): Promise<{ result: T } & UpdateResult> {
  return underLock(file, async (assertHeld) => {
    const handle = await fs.open(file, "r").catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    });
    if (handle) {
      try {
        const fold = startFold();
        const spans = await foldRecordLines(handle, fold);
        if (spans) {
          const result = fold.finish();
          const rewrite = rewriteOf(result);
          if (rewrite) await writeNoted(file, writeRewrite(handle, spans, rewrite), assertHeld);
          return { result };
        }
      } finally {
        await handle.close();
      }
    }
    let result: T | undefined;
    const update = await rewriteLocked(file, assertHeld, (records) => {
      const fold = startFold();
      for (const record of records) fold.add(record, recordBytes(record));
      result = fold.finish();
      const rewrite = rewriteOf(result);
      return Promise.resolve(rewrite && formatJsonArray(rewrittenRecords(rewrite, records)));
    });
    return { result: result as T, ...update };
  });
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
  return underLock(file, async (assertHeld) => {
    await before();
    if (text === null) await fs.rm(file, { force: true });
    else await writeNoted(file, text, assertHeld);
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
 * Writes `added` into a file this module wrote last and nobody touched since, without rewriting
 * it. The file ends with the closing line "]\n" of a non-empty array. First the new records and a
 * new closing line go past the end (`…}\n]\n{new},\n{new}\n]\n`) and are flushed: the file still
 * begins with the complete old array, which is what a reader takes from it until the next step
 * (parseJsonArray). Then the old "]" becomes "," in one single-byte write, which leaves a line
 * holding only "," between the old records and the new ones, and the file is flushed again. A
 * crash or SIGKILL before that byte leaves the old array plus a tail that readers drop and the
 * next writer removes; after it, the new array. The lock token is checked before each write.
 * Returns false (nothing written) when the file does not end as expected: the caller rewrites it.
 */
async function appendInPlace(file: string, tail: Buffer, assertHeld: AssertLockHeld): Promise<boolean> {
  const handle = await fs.open(file, "r+");
  try {
    const { size } = await handle.stat();
    const end = Buffer.alloc(Math.min(size, 3));
    await handle.read(end, 0, end.length, size - end.length);
    // An empty array ("[]\n") has no closing line of its own: rewritten once, appended to after.
    if (end.toString("latin1") !== "\n]\n" || size < 5) return false;
    await assertHeld();
    await handle.write(tail, 0, tail.length, size);
    await handle.datasync();
    await assertHeld();
    await handle.write(Buffer.from(","), 0, 1, size - 2);
    await handle.datasync();
    return true;
  } finally {
    await handle.close();
  }
}

/** Notes the file as this module's latest write, if it is still the file this holder wrote to. */
async function noteWritten(file: string, ino: number): Promise<void> {
  const stat = await fs.stat(file);
  if (stat.ino === ino) await fs.writeFile(noteFile(file), statIdentity(stat));
  else await fs.rm(noteFile(file), { force: true });
}

/**
 * Appends record lines already checked by the caller, as they are: `tail` is what appendInPlace
 * writes past the closing line (the records' lines, then "\n]\n"). For a copy of a store kept
 * byte for byte like its original (a remote's, see remote/checked-copy.ts), so that its readers
 * too read only what was added. False, writing nothing, when the file does not end with its
 * closing line; the caller then replaces it whole.
 */
export function appendRecordLines(file: string, tail: Buffer): Promise<boolean> {
  return underLock(file, async (assertHeld) => {
    const { ino } = await fs.stat(file);
    if (!(await appendInPlace(file, tail, assertHeld))) return false;
    await assertHeld();
    await noteWritten(file, ino);
    return true;
  });
}

/**
 * Appends records under the lock, keeping the existing text as it is rather than re-serialising
 * it. `additions` is either the records, or a function that picks them from the current ones (to
 * skip duplicates). A file this module wrote last and nobody touched since gets only the new bytes
 * (appendInPlace); any other is parsed first, so that a corrupt one is moved aside, never written
 * over, and rewritten whole.
 */
export function appendJsonArray(
  file: string,
  additions: readonly unknown[] | ((records: unknown[]) => readonly unknown[]),
): Promise<UpdateResult> {
  return underLock(file, async (assertHeld) => {
    if (await unchangedSinceWritten(file)) {
      const added = typeof additions === "function" ? additions(await readJsonArray(file)) : additions;
      if (added.length === 0) return {};
      await removeDeadWritersTemps(file);
      const { ino } = await fs.stat(file);
      if (await appendInPlace(file, Buffer.from(`${recordLines(added)}\n]\n`), assertHeld)) {
        // A holder that took the lock over during the write may have read the file just before it.
        await assertHeld();
        await noteWritten(file, ino);
        return {};
      }
    }
    return rewriteLocked(file, assertHeld, (records, text) => {
      const added = typeof additions === "function" ? additions(records) : additions;
      return Promise.resolve(added.length === 0 ? undefined : withAppended(Buffer.from(text), added));
    });
  });
}
