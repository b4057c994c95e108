import fs from "node:fs/promises";
import path from "node:path";

/**
 * Replaces `file` with `data` so that a reader sees the old or the new content, never a mix
 * (returns the inode the data went to):
 * write a sibling temporary file, flush it to disk, rename it over the old one, flush the folder.
 * Callers that hold a lock on the file keep the default temporary name, so whatever a killed writer
 * left behind is simply overwritten next time; callers that may race without a lock pass a name of
 * their own (see uniqueTemp), or two writers would write into, and rename, the same file.
 */
export async function writeFileAtomic(
  file: string,
  data: string | Uint8Array,
  mode?: number,
  temp = `${file}.tmp`,
): Promise<{ ino: number }> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const handle = await fs.open(temp, "w", mode ?? 0o644);
  let ino: number;
  try {
    if (mode !== undefined) await handle.chmod(mode); // also when a killed writer's temporary file is reused
    await handle.writeFile(data);
    await handle.sync();
    ino = (await handle.stat()).ino;
  } finally {
    await handle.close();
  }
  await renameDurably(temp, file);
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
