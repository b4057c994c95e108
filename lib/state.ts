import path from "node:path";
import { uniqueTemp, writeFileAtomic } from "./atomic-write.js";
import { readFileIfExists } from "./if-exists.js";

/** Small JSON state kept between cron runs in storage/state/<name>.json (CPU counters, alert state, mail queue). */
export function stateFile(stateDir: string, name: string): string {
  return path.join(stateDir, `${name}.json`);
}

/** The saved state, or undefined when there is none yet; unreadable state throws, naming the file. */
export async function readState<T>(stateDir: string, name: string): Promise<T | undefined> {
  const file = stateFile(stateDir, name);
  const text = await readFileIfExists(file);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new Error(`${file}: not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}

/** Saves the state whole. Jobs may save the same state at once (two cpu runs, every job's config cache): the last rename wins. */
export async function writeState(stateDir: string, name: string, value: unknown, mode?: number): Promise<void> {
  const file = stateFile(stateDir, name);
  await writeFileAtomic(file, JSON.stringify(value), mode, uniqueTemp(file));
}
