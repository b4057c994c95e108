import type { Stats } from "node:fs";
import fs from "node:fs/promises";
import { ifExists } from "../lib/if-exists.js";
import { MAX_RECORD_DEPTH, nestedDeeperThan, parseJsonArray } from "./locked-file.js";
import { markOf, type StoreMark } from "./store-tail.js";

/**
 * Reading a store for a job that needs few records whole (ams-graphs: the newest sample of each
 * series, the events): a record in the form AMS writes it is scanned without building its
 * `details`, which make most of a store's bytes and of JSON.parse's work. Such a record is
 * checked as JSON.parse would check it, and `full()` parses it whole when it is needed. Any other
 * line is parsed whole; a file in any other layout, or that is not valid JSON, is read as
 * readJsonArray reads it. Either way the records are the ones readJsonArray gives.
 */

/** Consumes a store's records in file order (readLightRecords). */
export interface LightFold<T> {
  /**
   * `record` as JSON.parse gives it, except that a record scanned in AMS's form has, in place of
   * its details object, an empty one (LIGHT_DETAILS); `full()` gives the record whole.
   */
  add(record: unknown, full: () => unknown): void;
  finish(): T;
}

/** What a scanned record holds in place of its details object: shared, empty, frozen. */
export const LIGHT_DETAILS: Readonly<Record<string, unknown>> = Object.freeze({});

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const [OPEN_BRACE, CLOSE_BRACE, OPEN_BRACKET, CLOSE_BRACKET] = [0x7b, 0x7d, 0x5b, 0x5d];
const [COMMA, COLON, MINUS, PLUS, DOT, ZERO, NINE, NEWLINE] = [0x2c, 0x3a, 0x2d, 0x2b, 0x2e, 0x30, 0x39, 0x0a];
const isDigit = (c: number) => c >= ZERO && c <= NINE;
const isHex = (c: number) => isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
/** What may follow a backslash in a JSON string, besides "u" and four hex digits. */
const ESCAPED = new Set([QUOTE, BACKSLASH, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74].map((c) => c));
/**
 * Deeper values are left to JSON.parse and the depth check (MAX_RECORD_DEPTH, far deeper): AMS's
 * details nest a few levels.
 */
const SCAN_DEPTH = 16;
const WORDS = ["true", "false", "null"].map((word) => Buffer.from(word));

/** Whether `bytes` holds `word` at `i`. */
function holds(bytes: Uint8Array, i: number, word: Uint8Array): boolean {
  for (let k = 0; k < word.length; k++) if (bytes[i + k] !== word[k]) return false;
  return true;
}

/*
 * Checkers of JSON values in compact form (no whitespace outside strings, as JSON.stringify writes
 * them) over the bytes of a UTF-8 text: each returns the index just past the value starting at
 * `i`, or -1 when it is not such a value (invalid JSON, whitespace, or nested deeper than
 * SCAN_DEPTH). Bytes of multi-byte characters are taken as they come: JSON allows them in strings
 * only, and a JSON text read as UTF-8 is never refused for its encoding.
 */

function scanValue(b: Uint8Array, i: number, depth: number): number {
  const c = b[i]!;
  if (c === QUOTE) return scanString(b, i);
  if (c === OPEN_BRACE) return scanObject(b, i, depth);
  if (c === OPEN_BRACKET) return scanArray(b, i, depth);
  if (c === MINUS || isDigit(c)) return scanNumber(b, i);
  for (const word of WORDS) if (holds(b, i, word)) return i + word.length;
  return -1;
}

/** A string with any escape JSON allows; -1 on a control character or a bad escape. */
function scanString(b: Uint8Array, i: number): number {
  for (let k = i + 1; k < b.length; k++) {
    const c = b[k]!;
    if (c === QUOTE) return k + 1;
    if (c < 0x20) return -1;
    if (c === BACKSLASH) {
      const e = b[++k]!;
      if (e === 0x75) {
        for (let h = 1; h <= 4; h++) if (!isHex(b[k + h]!)) return -1;
        k += 4;
      } else if (!ESCAPED.has(e)) return -1;
    }
  }
  return -1;
}

/** -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
function scanNumber(b: Uint8Array, i: number): number {
  let k = i;
  if (b[k] === MINUS) k++;
  if (b[k] === ZERO) k++;
  else if (isDigit(b[k]!)) while (isDigit(b[k]!)) k++;
  else return -1;
  if (b[k] === DOT) {
    if (!isDigit(b[++k]!)) return -1;
    while (isDigit(b[k]!)) k++;
  }
  if (b[k] === 0x65 || b[k] === 0x45) {
    k++;
    if (b[k] === PLUS || b[k] === MINUS) k++;
    if (!isDigit(b[k]!)) return -1;
    while (isDigit(b[k]!)) k++;
  }
  return k;
}

function scanObject(b: Uint8Array, i: number, depth: number): number {
  if (depth >= SCAN_DEPTH) return -1;
  let k = i + 1;
  if (b[k] === CLOSE_BRACE) return k + 1;
  for (;;) {
    if (b[k] !== QUOTE) return -1;
    k = scanString(b, k);
    if (k < 0 || b[k] !== COLON) return -1;
    k = scanValue(b, k + 1, depth + 1);
    if (k < 0) return -1;
    const c = b[k++];
    if (c === CLOSE_BRACE) return k;
    if (c !== COMMA) return -1;
  }
}

function scanArray(b: Uint8Array, i: number, depth: number): number {
  if (depth >= SCAN_DEPTH) return -1;
  let k = i + 1;
  if (b[k] === CLOSE_BRACKET) return k + 1;
  for (;;) {
    k = scanValue(b, k, depth + 1);
    if (k < 0) return -1;
    const c = b[k++];
    if (c === CLOSE_BRACKET) return k;
    if (c !== COMMA) return -1;
  }
}

/** A string of printable ASCII without escapes (the names AMS writes): its end, or -1. */
function scanPlainString(b: Uint8Array, i: number): number {
  if (b[i] !== QUOTE) return -1;
  for (let k = i + 1; k < b.length; k++) {
    const c = b[k]!;
    if (c === QUOTE) return k + 1;
    if (c < 0x20 || c > 0x7e || c === BACKSLASH) return -1;
  }
  return -1;
}

const HEAD = ['{"server_id":', ',"metric_type":', ',"timestamp":', ',"value":', ',"unit":'].map((key) =>
  Buffer.from(key),
);
const OPTIONAL = new Set(["labels", "details", "rollup"]);
/** Powers of ten that are exact doubles. */
const EXACT_TENS = Array.from({ length: 23 }, (_, i) => 10 ** i);

/**
 * The number b[from, to) (scanNumber's): as Number() reads it, and JSON.parse. Up to 15 digits
 * and no exponent, the digits as a whole number divided by a power of ten is that same double:
 * both are exact, and a division rounds correctly.
 */
function numberAt(b: Buffer, from: number, to: number): number {
  let k = from;
  const negative = b[k] === MINUS;
  if (negative) k++;
  let whole = 0;
  let digits = 0;
  let decimals = -1;
  for (; k < to; k++) {
    const c = b[k]!;
    if (c === DOT) decimals = 0;
    else if (isDigit(c)) {
      whole = whole * 10 + (c - ZERO);
      digits++;
      if (decimals >= 0) decimals++;
    } else return Number(b.toString("latin1", from, to));
  }
  if (digits > 15) return Number(b.toString("latin1", from, to));
  const value = decimals > 0 ? whole / EXACT_TENS[decimals]! : whole;
  return negative ? -value : value;
}

/** Whether `text` is the bytes b[from, to) (printable ASCII). */
function sameText(text: string | undefined, b: Buffer, from: number, to: number): text is string {
  if (text === undefined || text.length !== to - from) return false;
  for (let k = 0; k < text.length; k++) if (text.charCodeAt(k) !== b[from + k]) return false;
  return true;
}

/**
 * Strings of printable ASCII met before, by their bytes: the names and times a store repeats on
 * every line, made once. Each field (`slot`) first tries its value on the record before.
 */
class Strings {
  private readonly byHash = new Map<number, string>();
  private readonly last: (string | undefined)[] = [];

  of(b: Buffer, from: number, to: number, slot: number): string {
    const last = this.last[slot];
    if (sameText(last, b, from, to)) return last;
    let hash = to - from;
    for (let k = from; k < to; k++) hash = (Math.imul(hash, 31) + b[k]!) | 0;
    let text = this.byHash.get(hash);
    if (!sameText(text, b, from, to)) this.byHash.set(hash, (text = b.toString("latin1", from, to)));
    this.last[slot] = text;
    return text;
  }
}

/** What one store's records share while they are scanned. */
interface Shared {
  strings: Strings;
  /** Labels of the same text share one object. */
  labels: Map<string, unknown>;
}

/**
 * The record on b[start, end) when it is in AMS's form: the keys server_id, metric_type,
 * timestamp, value and unit in that order (plain strings, a number), then any of labels, details
 * and rollup once each, all in compact JSON, details an object. Labels and rollup are parsed,
 * details only checked. Undefined for any other record.
 */
function scanRecord(b: Buffer, start: number, end: number, shared: Shared): object | undefined {
  const fields: string[] = [];
  let value = 0;
  let k = start;
  for (let n = 0; n < HEAD.length; n++) {
    const key = HEAD[n]!;
    if (!holds(b, k, key)) return undefined;
    const from = k + key.length;
    k = n === 3 ? scanNumber(b, from) : scanPlainString(b, from);
    if (k < 0) return undefined;
    if (n === 3) value = numberAt(b, from, k);
    else fields.push(shared.strings.of(b, from + 1, k - 1, n));
  }
  const record: Record<string, unknown> = {
    server_id: fields[0],
    metric_type: fields[1],
    timestamp: fields[2],
    value,
    unit: fields[3],
  };
  while (k < end - 1) {
    if (b[k] !== COMMA) return undefined;
    const keyEnd = scanPlainString(b, k + 1);
    if (keyEnd < 0 || b[keyEnd] !== COLON) return undefined;
    const key = shared.strings.of(b, k + 2, keyEnd - 1, HEAD.length);
    if (!OPTIONAL.has(key) || key in record) return undefined;
    const from = keyEnd + 1;
    k = scanValue(b, from, 1);
    if (k < 0 || k > end) return undefined;
    if (key === "details") {
      if (b[from] !== OPEN_BRACE) return undefined;
      record.details = LIGHT_DETAILS;
    } else if (key === "labels") {
      const text = b.toString("utf8", from, k);
      let labels = shared.labels.get(text);
      if (labels === undefined) shared.labels.set(text, (labels = JSON.parse(text)));
      record.labels = labels;
    } else record[key] = JSON.parse(b.toString("utf8", from, k));
  }
  return k === end - 1 && b[k] === CLOSE_BRACE ? record : undefined;
}

/** A line's record parsed whole, or undefined when it is not valid JSON or nests too deep (then the file is read whole). */
function parseLine(line: string): { record: unknown } | undefined {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return undefined;
  }
  return nestedDeeperThan(record, MAX_RECORD_DEPTH) ? undefined : { record };
}

/**
 * Folds the file's bytes line by line when they are laid out as locked-file.ts writes them ("[",
 * one record per line, lines holding only ",", "]"): the number of records; -1, as soon as they are
 * not, with the fold left unfinished.
 */
function foldLines(b: Buffer, fold: LightFold<unknown>): number {
  const n = b.length;
  if (n < 5 || b[0] !== OPEN_BRACKET || b[1] !== NEWLINE || b[n - 3] !== NEWLINE || b[n - 2] !== CLOSE_BRACKET)
    return -1;
  if (b[n - 1] !== NEWLINE) return -1;
  const shared: Shared = { strings: new Strings(), labels: new Map() };
  const last = n - 3;
  // After a record without its comma, a line holding only ","; after a comma, a record.
  let needComma = false;
  let records = 0;
  let start = 2;
  while (start <= last) {
    // b[last] is a line break: every line ends at or before it.
    const end = b.indexOf(NEWLINE, start);
    const comma = b[end - 1] === COMMA;
    if (needComma) {
      if (end - start !== 1 || !comma) return -1;
      needComma = false;
    } else {
      const textEnd = comma ? end - 1 : end;
      if (textEnd <= start) return -1;
      const scanned = scanRecord(b, start, textEnd, shared);
      if (scanned) {
        const from = start;
        fold.add(scanned, () => JSON.parse(b.toString("utf8", from, textEnd)));
      } else {
        const parsed = parseLine(b.toString("utf8", start, textEnd));
        if (!parsed) return -1;
        fold.add(parsed.record, () => parsed.record);
      }
      records++;
      needComma = !comma;
    }
    start = end + 1;
  }
  // The last record ends without a comma; an empty array is "[]", read whole.
  return needComma ? records : -1;
}

/**
 * One buffer the stores of a run are read into in turn. A buffer per store, freed out of order,
 * left the process's memory fragmented: 20 % more at its peak over 10 stores of 14 MB.
 */
export class StoreBuffer {
  private space = Buffer.alloc(0);

  /** The file's bytes, valid until the next read, and its stat before they were read; undefined when it does not exist. */
  async read(file: string): Promise<{ bytes: Buffer; stat: Stats } | undefined> {
    const handle = await ifExists(() => fs.open(file, "r"), undefined);
    if (!handle) return undefined;
    try {
      const stat = await handle.stat();
      const { size } = stat;
      if (size > this.space.length) this.space = Buffer.allocUnsafe(Math.ceil(size * 1.25));
      let filled = 0;
      while (filled < size) {
        const { bytesRead } = await handle.read(this.space, filled, size - filled, filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      return { bytes: this.space.subarray(0, filled), stat };
    } finally {
      await handle.close();
    }
  }
}

/**
 * The records of a store (local or a remote's copy) folded as LightFold says, and the store's mark
 * (store-tail.ts: where a later read of only what was appended may start); no record when it does
 * not exist; CorruptFileError as readJsonArray. The file is read into `buffer`, which the records'
 * `full()` read: they must be called before the next read into it.
 */
export async function readLightRecords<T>(
  file: string,
  startFold: () => LightFold<T>,
  buffer = new StoreBuffer(),
): Promise<{ result: T; mark?: StoreMark }> {
  const read = await buffer.read(file);
  if (read === undefined) return { result: startFold().finish() };
  const { bytes, stat } = read;
  const light = startFold();
  const records = foldLines(bytes, light);
  if (records >= 0) return { result: light.finish(), mark: markOf(stat, bytes, { records }) };
  const fold = startFold();
  const parsed = parseJsonArray(file, bytes.toString("utf8"));
  for (const record of parsed.records) fold.add(record, () => record);
  return {
    result: fold.finish(),
    mark: markOf(stat, bytes, { records: parsed.records.length, tornTail: parsed.tornTail }),
  };
}
