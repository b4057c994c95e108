import fs from "node:fs";
import fsp from "node:fs/promises";

/** A file that is not there yet (ENOENT) is an expected state for AMS's files, not an error. */
const isMissing = (err: unknown) => (err as NodeJS.ErrnoException).code === "ENOENT";

/** What `action` returns, or `missing` when it fails because its file does not exist; other errors are thrown. */
export async function ifExists<T, M>(action: () => Promise<T>, missing: M): Promise<T | M> {
  try {
    return await action();
  } catch (err) {
    if (isMissing(err)) return missing;
    throw err;
  }
}

/** ifExists for synchronous file calls. */
export function ifExistsSync<T, M>(action: () => T, missing: M): T | M {
  try {
    return action();
  } catch (err) {
    if (isMissing(err)) return missing;
    throw err;
  }
}

/** The file's text, or undefined when it does not exist. */
export const readFileIfExists = (file: string) => ifExists(() => fsp.readFile(file, "utf8"), undefined);

/** readFileIfExists for synchronous callers. */
export const readFileIfExistsSync = (file: string) => ifExistsSync(() => fs.readFileSync(file, "utf8"), undefined);

/**
 * Removes a file that may already be gone. Not fs.rmSync(file, { force: true }): its first call
 * loads Node's recursive-removal module, which costs a cron job more than the removal.
 */
export const removeIfExistsSync = (file: string): void => ifExistsSync(() => fs.unlinkSync(file), undefined);
