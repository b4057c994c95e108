import fs from "node:fs/promises";
import { statIdentity } from "../storage/file-identity.js";
import { readRange } from "../lib/read-range.js";
import { checkTail, type CheckedCopy, type CopyNote } from "./checked-copy.js";
import type { Remote } from "./config.js";
import { FinalCopyError, runCopy, sftpCommand, tooLarge, type CopyContext } from "./copy-command.js";

/**
 * Pulling only what a remote's store gained since the last good copy. A store grows by records
 * appended where its closing line stood, so the remote's bytes up to there are the kept copy's.
 * sftp's `reget` resumes a download from the local file's size: the temporary file is made that
 * size without a byte written (a sparse file ending a little before where the kept copy's records
 * end), and sftp fetches the rest, over the shared connection, needing no shell on the remote (an
 * sftp-only account will do). The overlap fetched must be the kept copy's very bytes, and what
 * follows must be records added and a closing line (checked-copy.ts): a store rewritten since (by
 * cleanup) fails one or the other. Any doubt is a reason to copy the whole store instead.
 */

/** Bytes fetched again before where the last good copy's records end, to be compared with its own. */
const OVERLAP_BYTES = 4096;

export type TailPull =
  | {
      /** The check of the remote's store as it is now, made from its tail alone. */
      checked: CheckedCopy;
      /** Bytes sftp fetched. */
      bytes: number;
    }
  | { reason: string };

/**
 * `file` as one argument of an sftp batch command, or undefined when it cannot be one. sftp splits
 * a command line like a shell (quotes, backslashes, "#" comments) and reads a source path as a glob
 * pattern: within double quotes only "\" and '"' need a backslash, sftp escapes the glob characters
 * itself. A line break would end the command and a leading "-" would read as an option.
 */
export function sftpArgument(file: string): string | undefined {
  if (/[\x00-\x1f\x7f]/.test(file) || file.startsWith("-")) return undefined;
  return `"${file.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/**
 * The remote path as sftp should be given it: sftp starts in the user's home, where relative paths
 * start as for scp, but expands no "~", so "~/" is dropped; undefined for "~user" (scp asks the server).
 */
export function sftpPath(remotePath: string): string | undefined {
  if (remotePath.startsWith("~/")) return remotePath.slice(2).replace(/^\/+/, "") || undefined;
  return remotePath.startsWith("~") ? undefined : remotePath;
}

/**
 * Fetches into `temp` the remote's store from a little before where the records of `kept` (the
 * last good copy, described by `note`) end, and checks it: `checked` when the store is the kept
 * copy or the kept copy plus records appended in place, else the reason to copy it whole. Throws
 * only what a whole copy would meet again (timed out, too large).
 */
export async function pullTail(
  remote: Remote,
  ctx: CopyContext,
  kept: string,
  temp: string,
  note: CopyNote,
): Promise<TailPull> {
  const source = sftpPath(remote.path);
  const [from, to] = [source && sftpArgument(source), sftpArgument(temp)];
  if (!from || !to) return { reason: "a path sftp cannot be given" };
  const keptNow = await fs.stat(kept).catch(() => undefined);
  if (!keptNow || statIdentity(keptNow) !== note.file)
    return { reason: "the last good copy is gone or changed since its pull" };
  const overlap = Math.min(OVERLAP_BYTES, note.records_end);
  const start = note.records_end - overlap;
  const keptBytes = await readRange(kept, start, keptNow.size - start);
  // Sparse: its size is where reget starts, no byte of it is written.
  await fs.writeFile(temp, "");
  await fs.truncate(temp, start);
  try {
    await runCopy(sftpCommand(remote, ctx), ctx, temp, `reget ${from} ${to}\n`);
  } catch (err) {
    if (err instanceof FinalCopyError) throw err;
    const { message } = err as Error;
    // sftp's words for a store now shorter than where the tail starts.
    if (message.includes("local file is larger than remote")) return { reason: "shorter than the last copy" };
    return { reason: message };
  }
  const { size } = await fs.stat(temp);
  if (size > ctx.fetch.max_bytes) throw tooLarge(ctx);
  const pulled = await readRange(temp, start, size - start);
  if (!pulled.subarray(0, overlap).equals(keptBytes.subarray(0, overlap)))
    return { reason: "changed before the last copy's end" };
  const checked = checkTail(remote, note, pulled.subarray(overlap), keptBytes.subarray(overlap));
  if (!checked) return { reason: "not records appended since the last copy" };
  if (checked.checked === "added records" && !checked.appended) return { reason: "not appended in place" };
  return { checked, bytes: pulled.length };
}
