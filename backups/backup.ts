import fs from "node:fs/promises";
import path from "node:path";
import { uniqueTemp, writeFileAtomic } from "../lib/atomic-write.js";
import { ifExists } from "../lib/if-exists.js";
import type { Paths } from "../lib/paths.js";
import { fileStamp } from "../lib/time.js";
import { readTextLocked, replaceJsonArrayText } from "../storage/locked-file.js";
import type { BackupsOptions } from "./config.js";
import { snapshotsToDelete } from "./rotation.js";
import {
  decodeSnapshot,
  encodeSnapshot,
  InvalidSnapshotError,
  SNAPSHOT_FILES,
  type Snapshot,
  type SnapshotFile,
  type SnapshotFileName,
} from "./snapshot.js";

/** Snapshots on disk: backups/ams-<UTC stamp>.json.gz, the stamp of lib/time.ts fileStamp. */
const SNAPSHOT_NAME = /^ams-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z\.json\.gz$/;

export interface SnapshotInfo {
  name: string;
  file: string;
  time: Date;
  bytes: number;
}

function storeFiles(paths: Paths): Record<SnapshotFileName, string> {
  return { "system_logs.json": paths.store, "alerts_log.json": paths.alertsLog };
}

/** The snapshots in backups/, oldest first; other files there are ignored. */
export async function listSnapshots(backupsDir: string): Promise<SnapshotInfo[]> {
  const names = await ifExists(() => fs.readdir(backupsDir), []);
  const infos: SnapshotInfo[] = [];
  for (const name of names) {
    const m = SNAPSHOT_NAME.exec(name);
    if (!m) continue;
    const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
    const file = path.join(backupsDir, name);
    infos.push({ name, file, time: new Date(Date.UTC(y, mo - 1, d, h, mi, s)), bytes: (await fs.stat(file)).size });
  }
  return infos.sort((a, b) => a.time.getTime() - b.time.getTime());
}

export interface CreateResult {
  file: string;
  snapshot: Snapshot;
  bytes: number;
  deleted: string[];
}

/**
 * Snapshots the store and the alert history, each read under its own lock (so never half-written),
 * then applies the rotation. The lock is held only while reading: compression happens outside it.
 */
export async function createBackup(paths: Paths, options: BackupsOptions, now: Date): Promise<CreateResult> {
  const files: SnapshotFile[] = [];
  for (const [name, file] of Object.entries(storeFiles(paths)) as [SnapshotFileName, string][]) {
    files.push({ name, content: (await readTextLocked(file)) ?? null });
  }
  const { data, snapshot } = encodeSnapshot(files, now.toISOString());
  const file = path.join(paths.backupsDir, `ams-${fileStamp(now)}.json.gz`);
  await writeFileAtomic(file, data, { temp: uniqueTemp(file) }); // two runs in one second write the same name, without a lock
  const existing = await listSnapshots(paths.backupsDir);
  const deleted = snapshotsToDelete(
    existing.map((s) => ({ name: s.name, time: s.time.getTime() })),
    options.keep_hourly,
    options.keep_daily,
  );
  for (const name of deleted) await fs.rm(path.join(paths.backupsDir, name), { force: true });
  return { file, snapshot, bytes: data.length, deleted };
}

/** The snapshot in `file`, fully checked (decompression, JSON, checksums). */
export async function readSnapshot(file: string): Promise<Snapshot> {
  return decodeSnapshot(await fs.readFile(file));
}

/** A snapshot argument: a bare name is looked up in backups/, anything else is a path. */
export function resolveSnapshot(paths: Paths, arg: string): string {
  return path.basename(arg) === arg ? path.join(paths.backupsDir, arg) : path.resolve(arg);
}

export interface RestoreResult {
  snapshot: Snapshot;
  /** Where each current file was copied before being replaced. */
  setAside: string[];
}

/**
 * Copies `file` to `aside`, or to `aside-2`, `aside-3`… when that name is taken (two restores in one
 * second): an earlier copy is never overwritten. Undefined when `file` does not exist.
 */
async function copyAside(file: string, aside: string): Promise<string | undefined> {
  for (let n = 1; ; n++) {
    const name = n === 1 ? aside : `${aside}-${n}`;
    try {
      await fs.copyFile(file, name, fs.constants.COPYFILE_EXCL);
      return name;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return undefined;
      if (code !== "EEXIST") throw err;
    }
  }
}

/**
 * Puts a snapshot's files back. The snapshot is checked whole first, so a damaged one changes
 * nothing; then each current file is copied aside (<file>.pre-restore-<stamp>) and replaced
 * atomically under its lock, so running jobs wait rather than write into the old file.
 */
export async function restoreBackup(paths: Paths, file: string, now: Date): Promise<RestoreResult> {
  let snapshot: Snapshot;
  try {
    snapshot = await readSnapshot(file);
  } catch (err) {
    if (err instanceof InvalidSnapshotError || (err as NodeJS.ErrnoException).code === "ENOENT") {
      throw new Error(`${file}: refusing to restore: ${(err as Error).message}; nothing was changed`, {
        cause: err,
      });
    }
    throw err;
  }
  const targets = storeFiles(paths);
  const setAside: string[] = [];
  for (const name of SNAPSHOT_FILES) {
    const entry = snapshot.files.find((f) => f.name === name)!;
    const target = targets[name];
    await replaceJsonArrayText(target, entry.content, async () => {
      const aside = await copyAside(target, `${target}.pre-restore-${fileStamp(now)}`);
      if (aside) setAside.push(aside);
    });
  }
  return { snapshot, setAside };
}
