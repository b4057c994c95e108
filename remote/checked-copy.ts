import fs from "node:fs/promises";
import type { Paths } from "../lib/paths.js";
import { readRange } from "../lib/read-range.js";
import { readState, writeState, type ResetReport } from "../lib/state.js";
import { statIdentity } from "../storage/file-identity.js";
import { parseJsonArray, parseWhole } from "../storage/locked-file.js";
import { ownSamples, type Speaker } from "../storage/speaks-for.js";
import { samplesOf } from "../storage/store.js";

/**
 * Checking a freshly pulled copy of a remote's store: that it is an AMS store (current or original
 * form) with records of its own, and how many. A remote's store only grows between pulls (records
 * are appended in place, its closing "]" turned into ","; cleanup rewrites it now and then), so
 * most copies begin with the very bytes of the last good copy. Those bytes were checked when that
 * copy was kept: a copy identical to it is not checked again, and one that begins with its records
 * has only the records after them checked. The outcome is always that of a check of the whole copy;
 * anything else (a rewritten store, a copy kept since changed on disk, an unfinished tail) is checked
 * whole.
 */

export interface CopyCounts {
  /** Readable records of the copy that its remote may speak for. */
  records: number;
  /** Records of the copy that fit no known form. */
  skipped: number;
  /** Records naming a server this remote may not speak for (skipped), and the first few names. */
  foreign?: number;
  foreignServers?: string[];
}

/** What the last check of the kept copy found (storage/state/remote-copies.json), by remote. */
export interface CopyNote {
  /** The kept copy's inode, size, mtime and ctime when noted: any other write to it brings back the whole check. */
  file: string;
  /** Bytes of the copy up to the end of its last record, before the closing "]". */
  records_end: number;
  counts: CopyCounts;
  /**
   * When its bytes were last compared with the remote's whole store (a whole copy); a tail pull
   * compares only the bytes near the end. Absent in notes written before it was kept.
   */
  whole_at?: string;
}

export type CopyNotes = Record<string, CopyNote>;

export interface CheckedCopy {
  counts: CopyCounts;
  /** What was read: nothing (the same bytes as the kept copy: nothing to replace), the records added to it, or the whole copy. */
  checked: "nothing" | "added records" | "whole copy";
  /** Where its records end; undefined when it ends with an unfinished append (then the next copy is checked whole). */
  recordsEnd?: number;
  /**
   * When the copy is the kept one plus records appended in place as a store's writer appends them:
   * the bytes to write past the kept copy's closing line (storage/locked-file.ts appendRecordLines),
   * which make it the new copy byte for byte.
   */
  appended?: Buffer;
}

const STATE_NAME = "remote-copies";

function notesProblem(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "expected an object";
  for (const [name, entry] of Object.entries(value as Record<string, unknown>)) {
    const note = entry as Partial<Record<keyof CopyNote, unknown>> | null;
    const counts = note?.counts as Partial<Record<keyof CopyCounts, unknown>> | null | undefined;
    const ok =
      typeof note?.file === "string" &&
      Number.isSafeInteger(note.records_end) &&
      (note.whole_at === undefined || typeof note.whole_at === "string") &&
      typeof counts === "object" &&
      counts !== null &&
      typeof counts.records === "number" &&
      typeof counts.skipped === "number" &&
      (counts.foreign === undefined || typeof counts.foreign === "number") &&
      (counts.foreignServers === undefined ||
        (Array.isArray(counts.foreignServers) && counts.foreignServers.every((n) => typeof n === "string")));
    if (!ok)
      return `${name}: expected { file, records_end, counts: { records, skipped, foreign?, foreignServers? }, whole_at? }`;
  }
  return undefined;
}

/** The notes of the kept copies; {} before the first pull or when the file is unusable (it is moved aside, every copy is checked whole). */
export async function readCopyNotes(paths: Paths, onReset: ResetReport): Promise<CopyNotes> {
  return (await readState<CopyNotes>(paths.stateDir, STATE_NAME, notesProblem, onReset)) ?? {};
}

export async function writeCopyNotes(paths: Paths, notes: CopyNotes): Promise<void> {
  await writeState(paths.stateDir, STATE_NAME, notes);
}

/** The note of `kept`, the copy just put in place (or left in place) after `checked`; undefined when the next copy must be checked whole. */
export async function noteKeptCopy(
  kept: string,
  checked: CheckedCopy,
  wholeAt?: string,
): Promise<CopyNote | undefined> {
  if (checked.recordsEnd === undefined) return undefined;
  return {
    file: statIdentity(await fs.stat(kept)),
    records_end: checked.recordsEnd,
    counts: checked.counts,
    ...(wholeAt ? { whole_at: wholeAt } : {}),
  };
}

const isJsonSpace = (byte: number) => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;

/** Where the records of a JSON array's text end: just after the last character before its closing "]". */
export function recordsEnd(text: Buffer): number | undefined {
  let end = text.length;
  while (end > 0 && isJsonSpace(text[end - 1]!)) end--;
  if (end === 0 || text[end - 1] !== 0x5d /* ] */) return undefined;
  end--;
  while (end > 0 && isJsonSpace(text[end - 1]!)) end--;
  return end;
}

/**
 * The records in `tail`, the bytes that follow a whole array's records without its "]" (the last
 * good copy's, ending just after a record's last character, so the text splits between whole
 * characters). The whole text is a valid array exactly when the tail is "," and at least one more
 * record, then the closing "]": and then its records are the first part's followed by "[" + the
 * rest read as an array. Undefined for anything else, which the caller checks whole for the same
 * outcome and message.
 */
export function appendedRecords(tail: Buffer): unknown[] | undefined {
  const text = tail.toString("utf8");
  const comma = /^[ \t\n\r]*,/.exec(text);
  if (!comma) return undefined;
  try {
    const added = parseWhole("", `[${text.slice(comma[0].length)}`);
    return added.length > 0 ? added : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the first `length` bytes of two files are the same; read a MiB at a time. */
async function samePrefix(a: string, b: string, length: number): Promise<boolean> {
  const [fa, fb] = await Promise.all([fs.open(a, "r"), fs.open(b, "r")]);
  try {
    const chunk = 1 << 20;
    const [ba, bb] = [Buffer.alloc(chunk), Buffer.alloc(chunk)];
    for (let at = 0; at < length; at += chunk) {
      const size = Math.min(chunk, length - at);
      const [ra, rb] = await Promise.all([fa.read(ba, 0, size, at), fb.read(bb, 0, size, at)]);
      if (ra.bytesRead !== size || rb.bytesRead !== size) return false;
      if (!ba.subarray(0, size).equals(bb.subarray(0, size))) return false;
    }
    return true;
  } finally {
    await Promise.all([fa.close(), fb.close()]);
  }
}

/** Counts of the whole copy from the records `samples` (a part of it, or all) and those of the part before them. */
function countsOf(records: readonly unknown[], remote: Speaker, before?: CopyCounts): CopyCounts {
  const read = samplesOf(records, remote.name);
  const own = ownSamples(read.samples, remote, before?.foreignServers);
  const foreign = (before?.foreign ?? 0) + own.foreign;
  return {
    records: (before?.records ?? 0) + own.samples.length,
    skipped: (before?.skipped ?? 0) + read.skipped,
    ...(foreign > 0 ? { foreign, foreignServers: own.foreignServers } : {}),
  };
}

/**
 * The check of a copy that begins with the kept copy's bytes up to `note.records_end` (the caller
 * made sure), from `tail`, the copy's bytes from there on, and `keptTail`, the kept copy's: the same
 * bytes (nothing to replace), or records appended. Undefined when only a check of the whole copy
 * can tell.
 */
export function checkTail(remote: Speaker, note: CopyNote, tail: Buffer, keptTail: Buffer): CheckedCopy | undefined {
  if (tail.equals(keptTail)) return { counts: note.counts, checked: "nothing", recordsEnd: note.records_end };
  const added = appendedRecords(tail);
  if (!added) return undefined;
  // The kept copy ends "\n]\n" right after its records, and the copy continues them "\n,\n…\n]\n".
  const inPlace =
    keptTail.toString("latin1") === "\n]\n" &&
    tail.subarray(0, 3).toString("latin1") === "\n,\n" &&
    tail.subarray(-3).toString("latin1") === "\n]\n";
  return {
    counts: countsOf(added, remote, note.counts),
    checked: "added records",
    recordsEnd: note.records_end + recordsEnd(tail)!,
    ...(inPlace ? { appended: tail.subarray(3) } : {}),
  };
}

/**
 * Checks `copy` (pulled from `remote`, whose store is at `remotePath` there) against `kept`, the last
 * good copy, described by `note`; throws saying why the copy cannot be kept.
 */
export async function checkCopy(
  remote: Speaker & { path: string },
  copy: string,
  kept: string,
  note: CopyNote | undefined,
): Promise<CheckedCopy> {
  const keptNow = note && (await fs.stat(kept).catch(() => undefined));
  if (note && keptNow && statIdentity(keptNow) === note.file) {
    const { size } = await fs.stat(copy);
    if (size > note.records_end && (await samePrefix(copy, kept, note.records_end))) {
      const [tail, keptTail] = await Promise.all([
        readRange(copy, note.records_end, size - note.records_end),
        readRange(kept, note.records_end, keptNow.size - note.records_end),
      ]);
      const checked = checkTail(remote, note, tail, keptTail);
      if (checked) return checked;
    }
  }
  return checkWhole(remote, copy);
}

async function checkWhole(remote: Speaker & { path: string }, copy: string): Promise<CheckedCopy> {
  const text = await fs.readFile(copy);
  let parsed;
  try {
    parsed = parseJsonArray(copy, text.toString("utf8"));
  } catch (err) {
    throw new Error(`${remote.path}: ${(err as Error).message.replace(`${copy}: `, "")}`, { cause: err });
  }
  const counts = countsOf(parsed.records, remote);
  if (counts.records + (counts.foreign ?? 0) === 0) {
    throw new Error(`${remote.path}: no valid AMS records (${counts.skipped} unreadable)`);
  }
  if (counts.records === 0) {
    throw new Error(
      `${remote.path}: every record names another server (${counts.foreignServers!.join(", ")}); a remote speaks for ${remote.name} only, unless may_speak_for lists the others`,
    );
  }
  return { counts, checked: "whole copy", recordsEnd: parsed.tornTail === undefined ? recordsEnd(text) : undefined };
}
