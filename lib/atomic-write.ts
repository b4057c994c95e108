import fs from "node:fs/promises";
import path from "node:path";

/**
 * Replaces `file` with `data` so that a reader sees the old or the new content, never a mix:
 * write a sibling temporary file, flush it to disk, rename it over the old one, flush the folder.
 * Callers that may race for the same file hold a lock, so one fixed temporary name suffices and
 * whatever a killed writer left behind is simply overwritten next time.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const dir = path.dirname(file);
  await fs.mkdir(dir, { recursive: true });
  const temp = `${file}.tmp`;
  const handle = await fs.open(temp, "w", mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
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
}
