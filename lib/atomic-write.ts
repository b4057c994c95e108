import fs, { type FileHandle } from "node:fs/promises";
import path from "node:path";

export interface AtomicWriteOptions {
  mode?: number;
  /**
   * The temporary file's name (default `<file>.tmp`). Callers that may race without a lock pass a
   * name of their own (see uniqueTemp), or two writers would write into, and rename, the same file.
   */
  temp?: string;
  /** Runs just before the rename; throwing abandons the write (a lock holder checks it still holds the lock). */
  beforeRename?: () => Promise<void>;
}

/** Writes the content into the open temporary file: a big content is written piece by piece, never held whole. */
export type ContentWriter = (handle: FileHandle) => Promise<void>;

/**
 * Replaces `file` with `data` (or what `data` writes) so that a reader sees the old or the new
 * content, never a mix (returns the inode the data went to):
 * write a sibling temporary file, flush it to disk, rename it over the old one, flush the folder.
 * A write that fails (disk full, or `beforeRename` refusing) removes its temporary file, so failed
 * writes never fill the disk; only a killed writer leaves one behind.
 */
export async function writeFileAtomic(
  file: string,
  data: string | Uint8Array | ContentWriter,
  options: AtomicWriteOptions = {},
): Promise<{ ino: number }> {
  const { mode, temp = `${file}.tmp`, beforeRename } = options;
  await fs.mkdir(path.dirname(file), { recursive: true });
  let ino: number;
  try {
    const handle = await fs.open(temp, "w", mode ?? 0o644);
    try {
      if (mode !== undefined) await handle.chmod(mode); // also when a killed writer's temporary file is reused
      await (typeof data === "function" ? data(handle) : handle.writeFile(data));
      await handle.sync();
      ino = (await handle.stat()).ino;
    } finally {
      await handle.close();
    }
    await beforeRename?.();
    await renameDurably(temp, file);
  } catch (err) {
    await fs.rm(temp, { force: true }).catch(() => undefined);
    throw err;
  }
  return { ino };
}

/**
 * Replaces `file` with `temp`, a file written by someone else (scp): flushes it to disk, renames
 * it over `file` and flushes the folder, so readers see the old copy or the new one, never a mix.
 */
export async function replaceWithFile(temp: string, file: string): Promise<void> {
  const handle = await fs.open(temp, "r+");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  await renameDurably(temp, file);
}

/** Renames `temp` over `file` and flushes the folder, so that the rename itself survives a crash. */
async function renameDurably(temp: string, file: string): Promise<void> {
  await fs.rename(temp, file);
  const dir = await fs.open(path.dirname(file), "r");
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

let temps = 0;
/** A temporary name for `file` that no other write, in this process or another, uses at the same time. */
export const uniqueTemp = (file: string) => `${file}.${process.pid}-${++temps}.tmp`;
