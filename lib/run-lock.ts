import fs from "node:fs";
import path from "node:path";
import { removeIfExistsSync } from "./if-exists.js";
import { processIdentity, stillRunning, type ProcessIdentity } from "./process-identity.js";

/**
 * One run of a job at a time, like `flock -n`: storage/state/<job>.run.lock names the process that
 * holds it. A holder that died (crash, SIGKILL, reboot) no longer counts: the next run sees its
 * process gone and takes the lock over, so nothing waits forever on a lock nobody holds.
 */

/** The process holding the lock (recognised even if its PID is reused, or after a reboot). */
export interface LockHolder extends ProcessIdentity {
  /** ISO time the holder took the lock. */
  since: string;
}

export type LockResult = { acquired: true; release(): void } | { acquired: false; holder: LockHolder | undefined };

/** A takeover marker older than this belongs to a run that died taking over; it is removed. */
const TAKEOVER_STALE_MS = 30_000;

const ageMs = (file: string) => Date.now() - (fs.statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());

function readHolder(file: string): LockHolder | undefined {
  try {
    const holder = JSON.parse(fs.readFileSync(file, "utf8")) as LockHolder;
    return typeof holder.pid === "number" ? holder : undefined;
  } catch {
    return undefined;
  }
}

const sameHolder = (a: LockHolder | undefined, b: LockHolder | undefined) =>
  a !== undefined && b !== undefined && a.pid === b.pid && a.start === b.start && a.since === b.since;

/** link() fails when the name exists: the lock appears whole and only once, never half written. */
function linkNew(source: string, target: string): boolean {
  try {
    fs.linkSync(source, target);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  }
}

/**
 * Removes a dead holder's lock. Only one contender may do it (the `.takeover` marker), and only if
 * the lock still names that dead holder: a contender that already replaced it keeps it.
 */
function removeStale(file: string, dead: LockHolder, mine: string): void {
  const marker = `${file}.takeover`;
  if (!linkNew(mine, marker)) {
    if (ageMs(marker) > TAKEOVER_STALE_MS) removeIfExistsSync(marker);
    return;
  }
  try {
    if (sameHolder(readHolder(file), dead)) removeIfExistsSync(file);
  } finally {
    removeIfExistsSync(marker);
  }
}

/** Takes `file` for this process, or says who holds it. */
export function acquireRunLock(file: string, now = new Date()): LockResult {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const me: LockHolder = { ...processIdentity("self")!, since: now.toISOString() };
  const mine = `${file}.${process.pid}.new`;
  try {
    try {
      fs.writeFileSync(mine, `${JSON.stringify(me)}\n`);
    } catch (err) {
      // A full disk, most likely: say which file, so the admin knows where space is missing.
      throw new Error(`${file}: cannot take the run lock: ${(err as Error).message}`, { cause: err });
    }
    for (let attempt = 0; attempt < 3; attempt++) {
      if (linkNew(mine, file)) {
        return {
          acquired: true,
          release: () => {
            if (sameHolder(readHolder(file), me)) removeIfExistsSync(file);
          },
        };
      }
      const holder = readHolder(file);
      if (holder !== undefined && stillRunning(holder)) return { acquired: false, holder };
      if (holder !== undefined) removeStale(file, holder, mine);
      else if (ageMs(file) > TAKEOVER_STALE_MS) removeIfExistsSync(file); // not a lock AMS wrote
    }
    return { acquired: false, holder: readHolder(file) };
  } finally {
    removeIfExistsSync(mine);
  }
}
