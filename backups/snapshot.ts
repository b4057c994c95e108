import { createHash } from "node:crypto";
import zlib from "node:zlib";

/**
 * The snapshot format: one gzip file holding a JSON document with each store file's exact text
 * and its sha256, so a restore gives back the very bytes that were saved. gzip's own CRC and length
 * catch a truncated or damaged file; the sha256 catches a document that was altered.
 */

export const SNAPSHOT_FORMAT = "ams-backup/1";

/** The files a snapshot holds, by the name they are stored under. */
export const SNAPSHOT_FILES = ["system_logs.json", "alerts_log.json"] as const;
export type SnapshotFileName = (typeof SNAPSHOT_FILES)[number];

export interface SnapshotFile {
  name: SnapshotFileName;
  /** The file's text, or null when it did not exist when the snapshot was taken. */
  content: string | null;
}

export interface SnapshotEntry extends SnapshotFile {
  sha256: string | null;
  /** Records in the JSON array, for listings. */
  records: number;
}

export interface Snapshot {
  format: typeof SNAPSHOT_FORMAT;
  created: string;
  files: SnapshotEntry[];
}

export class InvalidSnapshotError extends Error {
  override name = "InvalidSnapshotError";
}

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

function countRecords(name: string, content: string): number {
  let data: unknown;
  try {
    data = JSON.parse(content);
  } catch (err) {
    throw new InvalidSnapshotError(`${name}: not valid JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(data)) throw new InvalidSnapshotError(`${name}: not a JSON array`);
  return data.length;
}

/** The compressed snapshot of `files`; a file that is not a JSON array is refused, not saved. */
export function encodeSnapshot(files: readonly SnapshotFile[], created: string): { data: Buffer; snapshot: Snapshot } {
  const snapshot: Snapshot = {
    format: SNAPSHOT_FORMAT,
    created,
    files: files.map((f) => ({
      ...f,
      sha256: f.content === null ? null : sha256(f.content),
      records: f.content === null ? 0 : countRecords(f.name, f.content),
    })),
  };
  return { data: zlib.gzipSync(JSON.stringify(snapshot)), snapshot };
}

/** The snapshot in `data`, fully checked; InvalidSnapshotError says what is wrong. */
export function decodeSnapshot(data: Buffer): Snapshot {
  let text: string;
  try {
    text = zlib.gunzipSync(data).toString("utf8");
  } catch (err) {
    throw new InvalidSnapshotError(`cannot decompress (${(err as Error).message}): truncated or damaged`);
  }
  let doc: Snapshot | null;
  try {
    doc = JSON.parse(text) as Snapshot | null;
  } catch (err) {
    throw new InvalidSnapshotError(`not valid JSON (${(err as Error).message})`);
  }
  if (doc?.format !== SNAPSHOT_FORMAT || !Array.isArray(doc.files))
    throw new InvalidSnapshotError(`not an ${SNAPSHOT_FORMAT} snapshot`);
  for (const name of SNAPSHOT_FILES) {
    const entries = doc.files.filter((f: SnapshotEntry | null) => f?.name === name);
    if (entries.length !== 1) throw new InvalidSnapshotError(`${name}: expected once, found ${entries.length} time(s)`);
  }
  if (doc.files.length !== SNAPSHOT_FILES.length) throw new InvalidSnapshotError("unexpected files in the snapshot");
  for (const f of doc.files) {
    if (f.content === null) {
      if (f.sha256 !== null) throw new InvalidSnapshotError(`${f.name}: checksum without content`);
      continue;
    }
    if (typeof f.content !== "string") throw new InvalidSnapshotError(`${f.name}: no content`);
    if (f.sha256 !== sha256(f.content)) throw new InvalidSnapshotError(`${f.name}: sha256 does not match its content`);
    if (countRecords(f.name, f.content) !== f.records)
      throw new InvalidSnapshotError(`${f.name}: record count does not match`);
  }
  return doc;
}
