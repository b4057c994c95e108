import fsSync from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { ifExists } from "../lib/if-exists.js";

/**
 * Writes the site into public/ file by file, each as a hidden temporary file renamed over the old
 * one, so a reader (ams-web) sees a whole old or a whole new file, never half of one; ams-web
 * never serves the dot-named temporaries. Files are written in the order given (charts before the
 * pages that show them). The pages are rebuilt every run, so they are not flushed to disk. The
 * calls are synchronous: a 100-server site is 11,000 files, and four round trips through libuv's
 * thread pool per file left the job waiting 5 s of its 30.
 */
export function publishFiles(publicDir: string, files: ReadonlyArray<readonly [string, string | Uint8Array]>): void {
  const dirs = new Set(files.map(([rel]) => path.dirname(path.join(publicDir, rel))));
  for (const dir of dirs) fsSync.mkdirSync(dir, { recursive: true });
  for (const [rel, content] of files) {
    const file = path.join(publicDir, rel);
    const temp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}`);
    try {
      fsSync.writeFileSync(temp, content);
      fsSync.renameSync(temp, file);
    } catch (err) {
      fsSync.rmSync(temp, { force: true }); // a full disk must not keep half a page
      throw err;
    }
  }
}

/**
 * Removes files under <root>/<dir> (public/ or the chart cache) that this run did not write or keep
 * (a server no longer in the data), and the folders left empty.
 */
export async function removeStale(root: string, dir: string, keep: Pick<ReadonlySet<string>, "has">): Promise<number> {
  let removed = 0;
  // With their types: a fleet's public/ is thousands of files, and a stat of each took half a second.
  const entries = await ifExists(
    () => fs.readdir(path.join(root, dir), { recursive: true, withFileTypes: true }),
    undefined,
  );
  if (!entries) return 0;
  const folders: string[] = [];
  for (const entry of entries) {
    const rel = path.relative(root, path.join(entry.parentPath, entry.name));
    if (entry.isDirectory()) folders.push(rel);
    else if (!keep.has(rel)) {
      await fs.rm(path.join(root, rel));
      removed++;
    }
  }
  // Deepest first, so that a folder whose subfolders were all emptied goes too.
  for (const folder of folders.sort((a, b) => b.length - a.length)) {
    await fs.rmdir(path.join(root, folder)).catch((err: unknown) => {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "ENOTEMPTY" && code !== "EEXIST") throw err;
    });
  }
  return removed;
}
