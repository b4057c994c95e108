import fs from "node:fs/promises";
import path from "node:path";
import { writeFileAtomic } from "./atomic-write.js";

/** Small JSON state kept between cron runs in storage/state/<name>.json (CPU counters, alert state, mail queue). */
export function stateFile(stateDir: string, name: string): string {
  return path.join(stateDir, `${name}.json`);
}

/** The saved state, or undefined when there is none yet; unreadable state throws, naming the file. */
export async function readState<T>(stateDir: string, name: string): Promise<T | undefined> {
  const file = stateFile(stateDir, name);
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new Error(`${file}: not valid JSON: ${(err as Error).message}`);
  }
}

export async function writeState(stateDir: string, name: string, value: unknown, mode?: number): Promise<void> {
  await writeFileAtomic(stateFile(stateDir, name), JSON.stringify(value), mode);
}
