import fs from "node:fs/promises";

/**
 * What tells one version of a file from another without reading it: inode, size, mtime and ctime.
 * The store's writers replace a file by rename or append to it, both of which change these, and no
 * tool can set a ctime back (cp -p, tar or rsync can set an mtime back).
 */
export const statIdentity = (stat: { ino: number; size: number; mtimeMs: number; ctimeMs: number }) =>
  `${stat.ino}:${stat.size}:${stat.mtimeMs}:${stat.ctimeMs}`;

/** The identity of a file, or why it has none ("(ENOENT)"): a missing file is a version too. */
export async function fileIdentity(file: string): Promise<string> {
  try {
    return statIdentity(await fs.stat(file));
  } catch (err) {
    return `(${(err as NodeJS.ErrnoException).code ?? "unreadable"})`;
  }
}
