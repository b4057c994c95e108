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
  const dir = path.dirname(file);
  await fs.mkdir(dir, { recursive: true });
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
  await fs.rename(temp, file);
  const dirHandle = await fs.open(dir, "r");
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
  return { ino };
}

let temps = 0;
/** A temporary name for `file` that no other write, in this process or another, uses at the same time. */
export const uniqueTemp = (file: string) => `${file}.${process.pid}-${++temps}.tmp`;
