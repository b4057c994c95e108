import fs from "node:fs/promises";
import path from "node:path";
import { uniqueTemp, writeFileAtomic } from "./atomic-write.js";
import { readFileIfExists } from "./if-exists.js";
import { fileStamp } from "./time.js";

/** Small JSON state kept between cron runs in storage/state/<name>.json (CPU counters, alert state, mail queue). */
export function stateFile(stateDir: string, name: string): string {
  return path.join(stateDir, `${name}.json`);
}

/** Why a saved value does not have the shape its owner expects ("field: problem"), or undefined when it does. */
export type StateCheck = (value: unknown) => string | undefined;

/** For checks of saved counters: a finite number, not below 0. */
export const isCount = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v) && v >= 0;

/** Told once that a state file was unusable and moved aside (the message says why and where to). */
export type ResetReport = (message: string) => void;

/**
 * The saved state, or undefined when there is none yet. A file that is not valid JSON or fails
 * `check` is never used and never overwritten: it is moved to `<name>.json.corrupt-<stamp>` (as the
 * store is), `onReset` is told why, and the state reads as absent, so its owner rebuilds it. Two
 * readers finding the same bad file move it once; only the one that moved it reports. A reader that
 * does not own the state (`repair` false: the web server, listings) leaves the file in place and is
 * told nothing: it reads as absent until the owner's next run sets it aside.
 */
export async function readState<T>(
  stateDir: string,
  name: string,
  check: StateCheck,
  onReset: ResetReport,
  repair = true,
): Promise<T | undefined> {
  const file = stateFile(stateDir, name);
  const text = await readFileIfExists(file);
  if (text === undefined) return undefined;
  let problem: string | undefined;
  try {
    const value: unknown = JSON.parse(text);
    problem = check(value);
    if (problem === undefined) return value as T;
  } catch (err) {
    problem = `not valid JSON (${(err as Error).message})`;
  }
  if (!repair) return undefined;
  const aside = `${file}.corrupt-${fileStamp(new Date())}`;
  try {
    await fs.rename(file, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined; // another reader moved it
    throw err;
  }
  onReset(`${file}: ${problem}; moved aside to ${aside} and started afresh`);
  return undefined;
}

/** Saves the state whole. Jobs may save the same state at once (two cpu runs, every job's config cache): the last rename wins. */
export async function writeState(stateDir: string, name: string, value: unknown, mode?: number): Promise<void> {
  const file = stateFile(stateDir, name);
  await writeFileAtomic(file, JSON.stringify(value), { mode, temp: uniqueTemp(file) });
}
