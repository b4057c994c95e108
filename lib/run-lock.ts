import fs from "node:fs";
import path from "node:path";

/**
 * One run of a job at a time, like `flock -n`: storage/state/<job>.run.lock names the process that
 * holds it. A holder that died (crash, SIGKILL, reboot) no longer counts: the next run sees its
 * process gone and takes the lock over, so nothing waits forever on a lock nobody holds.
 */

export interface LockHolder {
  pid: number;
  /** ISO time the holder took the lock. */
  since: string;
  /** The holder's start time in clock ticks since boot (/proc/PID/stat), so a reused PID is not taken for it. */
  start: string;
  /** /proc/sys/kernel/random/boot_id: a lock left before a reboot is stale. */
  boot: string;
}

export type LockResult = { acquired: true; release(): void } | { acquired: false; holder: LockHolder | undefined };

/** A takeover marker older than this belongs to a run that died taking over; it is removed. */
const TAKEOVER_STALE_MS = 30_000;

const readText = (file: string) => {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
};

const ageMs = (file: string) => Date.now() - (fs.statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());

/** Field 22 of /proc/PID/stat (starttime), counted after the command name, which may hold spaces. */
function processStart(pid: number | "self"): string | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  return stat?.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
}

const bootId = () => readText("/proc/sys/kernel/random/boot_id")?.trim() ?? "";

function readHolder(file: string): LockHolder | undefined {
  const text = readText(file);
  if (text === undefined) return undefined;
  try {
    const holder = JSON.parse(text) as LockHolder;
    return typeof holder.pid === "number" ? holder : undefined;
  } catch {
    return undefined;
  }
}

/** The holder's process still runs: same boot, and its PID still names the process that wrote the lock. */
export function holderAlive(holder: LockHolder): boolean {
  return holder.boot === bootId() && processStart(holder.pid) === holder.start;
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
    if (ageMs(marker) > TAKEOVER_STALE_MS) fs.rmSync(marker, { force: true });
    return;
  }
  try {
    if (sameHolder(readHolder(file), dead)) fs.rmSync(file, { force: true });
  } finally {
    fs.rmSync(marker, { force: true });
  }
}

/** Takes `file` for this process, or says who holds it. */
export function acquireRunLock(file: string, now = new Date()): LockResult {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const me: LockHolder = {
    pid: process.pid,
    since: now.toISOString(),
    start: processStart("self") ?? "",
    boot: bootId(),
  };
  const mine = `${file}.${process.pid}.new`;
  fs.writeFileSync(mine, `${JSON.stringify(me)}\n`);
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      if (linkNew(mine, file)) {
        return {
          acquired: true,
          release: () => {
            if (sameHolder(readHolder(file), me)) fs.rmSync(file, { force: true });
          },
        };
      }
      const holder = readHolder(file);
      if (holder !== undefined && holderAlive(holder)) return { acquired: false, holder };
      if (holder !== undefined) removeStale(file, holder, mine);
      else if (ageMs(file) > TAKEOVER_STALE_MS) fs.rmSync(file, { force: true }); // not a lock AMS wrote
    }
    return { acquired: false, holder: readHolder(file) };
  } finally {
    fs.rmSync(mine, { force: true });
  }
}
