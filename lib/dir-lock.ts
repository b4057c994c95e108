import fs from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * A lock between processes: the folder `<file>.lock`, created with mkdir (atomic), whose mtime
 * its holder refreshes while it holds it. This is proper-lockfile's on-disk protocol, which
 * earlier versions of AMS used, so an older job still running during an upgrade and a newer one
 * exclude each other. Written here because loading proper-lockfile (graceful-fs patches all of
 * fs, signal-exit, retry) cost a sensor run more than its measurement.
 */
export interface DirLockOptions {
  /** A folder whose mtime is older than this is a dead holder's and is taken over. */
  staleMs: number;
  /** How often the holder refreshes the mtime; well below staleMs. */
  updateMs: number;
  /** How long to keep trying while another process holds it. */
  waitMs: number;
  /** Called once, from a timer, when the lock was taken over or removed while held. */
  onCompromised: (err: Error) => void;
}

/** Another process held the lock for all of `waitMs`. */
export class LockBusyError extends Error {
  override name = "LockBusyError";
}

/** Waits between two attempts: randomized, so waiting processes do not retry in step. */
const MIN_RETRY_MS = 10;
const MAX_RETRY_MS = 100;
/** After a failed refresh (not a compromise), the next try comes sooner than updateMs. */
const REFRESH_RETRY_MS = 1000;

interface Held {
  dir: string;
  /** The mtime this holder last gave the folder: any other means someone else has it now. */
  mtimeMs: number;
  lastUpdate: number;
  timer?: NodeJS.Timeout;
  /** A refresh under way, which may be changing the mtime. */
  refreshing?: Promise<void>;
  released: boolean;
}

const held = new Set<Held>();

/**
 * Some file systems keep whole seconds only: the holder then sets whole seconds (rounded up), so the
 * mtime it reads back is the one it set. Probed once per process, as proper-lockfile does.
 */
let secondsOnly: boolean | undefined;

async function probeMtime(dir: string): Promise<number> {
  if (secondsOnly !== undefined) return (await fs.promises.stat(dir)).mtimeMs;
  // Just past a whole second: a file system that keeps seconds only reads it back as whole seconds.
  const probe = new Date(Math.ceil(Date.now() / 1000) * 1000 + 5);
  await fs.promises.utimes(dir, probe, probe);
  const { mtimeMs } = await fs.promises.stat(dir);
  secondsOnly = Math.floor(mtimeMs) % 1000 === 0;
  return mtimeMs;
}

const nextMtime = () => (secondsOnly ? Math.ceil(Date.now() / 1000) * 1000 : Date.now());

const code = (err: unknown) => (err as NodeJS.ErrnoException).code;

/** Takes the folder, or finds it held; a stale folder is removed first. */
async function tryAcquire(dir: string, staleMs: number): Promise<number | undefined> {
  try {
    await fs.promises.mkdir(dir);
  } catch (err) {
    if (code(err) !== "EEXIST") throw err;
    let mtimeMs: number;
    try {
      ({ mtimeMs } = await fs.promises.stat(dir));
    } catch (statErr) {
      if (code(statErr) === "ENOENT") return undefined; // released meanwhile: the caller tries again at once
      throw statErr;
    }
    if (mtimeMs >= Date.now() - staleMs) return undefined;
    // Two processes taking over the same stale folder may both get it (each rmdir then mkdir): the
    // one whose folder was removed sees it at its next refresh, and storage/locked-file.ts's owner
    // token stops it from writing before that.
    await fs.promises.rmdir(dir).catch((rmErr: unknown) => {
      if (code(rmErr) !== "ENOENT") throw rmErr;
    });
    return tryAcquire(dir, Number.POSITIVE_INFINITY);
  }
  try {
    return await probeMtime(dir);
  } catch (err) {
    await fs.promises.rmdir(dir).catch(() => undefined);
    throw err;
  }
}

function compromised(lock: Held, options: DirLockOptions, reason: string): void {
  lock.released = true;
  held.delete(lock);
  options.onCompromised(new Error(reason));
}

/** Every updateMs: checks the folder is still the one this holder set, then gives it a new mtime. */
function scheduleRefresh(lock: Held, options: DirLockOptions, delay = options.updateMs): void {
  lock.timer = setTimeout(() => {
    lock.refreshing = refresh(lock, options);
  }, delay);
  // Never keeps a job alive: its locks go with it (releaseAllSync).
  lock.timer.unref();
}

/** Gives the folder a new mtime and returns it as stored, unless it is no longer this holder's. */
async function touch(lock: Held): Promise<number | "taken over"> {
  // Someone else's mtime: it was found stale (this process stalled past staleMs) and taken over.
  if ((await fs.promises.stat(lock.dir)).mtimeMs !== lock.mtimeMs) return "taken over";
  const mtime = new Date(nextMtime());
  await fs.promises.utimes(lock.dir, mtime, mtime);
  // As stored, which may differ from the one set by a fraction of a millisecond (seconds as a double).
  return (await fs.promises.stat(lock.dir)).mtimeMs;
}

async function refresh(lock: Held, options: DirLockOptions): Promise<void> {
  let stored: number | "taken over" | undefined;
  let failure: unknown;
  try {
    stored = await touch(lock);
  } catch (err) {
    failure = err;
  }
  // Even when released meanwhile: the release compares the folder's mtime with this one.
  if (typeof stored === "number") {
    lock.mtimeMs = stored;
    lock.lastUpdate = Date.now();
  }
  if (lock.released) return;
  if (stored === "taken over") compromised(lock, options, "not refreshed within the stale time, taken over");
  else if (stored !== undefined) scheduleRefresh(lock, options);
  else if (code(failure) === "ENOENT") compromised(lock, options, "its folder was removed");
  else if (lock.lastUpdate + options.staleMs < Date.now()) compromised(lock, options, (failure as Error).message);
  else scheduleRefresh(lock, options, REFRESH_RETRY_MS);
}

/** A holder that exits (a deadline's process.exit, a signal) leaves no lock for others to wait out. */
function releaseAllSync(): void {
  for (const lock of held) {
    try {
      if (fs.statSync(lock.dir).mtimeMs === lock.mtimeMs) fs.rmdirSync(lock.dir);
    } catch {
      // Already gone, or no longer removable: the next holder finds it stale.
    }
  }
  held.clear();
}

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/** Releases the locks, then dies of the signal as if nothing had caught it, unless someone else handles it. */
function onSignal(signal: NodeJS.Signals): void {
  releaseAllSync();
  if (process.listenerCount(signal) === 1) {
    for (const s of SIGNALS) process.removeListener(s, onSignal);
    process.kill(process.pid, signal);
  }
}

let exitHooked = false;

function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.on("exit", releaseAllSync);
  for (const signal of SIGNALS) process.on(signal, onSignal);
}

/**
 * Takes the lock folder `dir`, waiting up to `waitMs` while another process holds it (LockBusyError
 * after that), and keeps it fresh until the returned release is called. Release removes the folder
 * only if it is still this holder's.
 */
export async function acquireDirLock(dir: string, options: DirLockOptions): Promise<() => Promise<void>> {
  const until = Date.now() + options.waitMs;
  let mtimeMs = await tryAcquire(dir, options.staleMs);
  while (mtimeMs === undefined) {
    if (Date.now() >= until) throw new LockBusyError(`${dir} is held by another process`);
    await sleep(MIN_RETRY_MS + Math.random() * (MAX_RETRY_MS - MIN_RETRY_MS));
    mtimeMs = await tryAcquire(dir, options.staleMs);
  }
  const lock: Held = { dir, mtimeMs, lastUpdate: Date.now(), released: false };
  held.add(lock);
  hookExit();
  scheduleRefresh(lock, options);
  return async () => {
    if (lock.released) return;
    lock.released = true;
    clearTimeout(lock.timer);
    held.delete(lock);
    await lock.refreshing;
    const current = await fs.promises.stat(dir).then(
      (stat) => stat.mtimeMs,
      () => undefined,
    );
    if (current === lock.mtimeMs)
      await fs.promises.rmdir(dir).catch((err: unknown) => {
        if (code(err) !== "ENOENT") throw err;
      });
  };
}
