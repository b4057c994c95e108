import fs from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";
import lockfile from "proper-lockfile";
import { acquireDirLock, LockBusyError, type DirLockOptions } from "../lib/dir-lock.js";
import { tempDir } from "./helpers.js";

const lockDir = () => path.join(tempDir("ams-dir-lock-"), "store.json.lock");

/** Short times, so that staleness and refreshes happen within a test; compromises are collected. */
function options(overrides: Partial<DirLockOptions> = {}): DirLockOptions & { compromises: Error[] } {
  const compromises: Error[] = [];
  return {
    staleMs: 2000,
    updateMs: 100,
    waitMs: 300,
    onCompromised: (err) => compromises.push(err),
    compromises,
    ...overrides,
  };
}

const setMtime = (dir: string, ms: number) => fs.utimesSync(dir, new Date(ms), new Date(ms));

/** A process holding the lock through lib/dir-lock.ts; `then` runs once it holds it. */
function holderProcess(dir: string, then: string, updateMs = 2000) {
  const script = `
    import { acquireDirLock } from "./lib/dir-lock.ts";
    const release = await acquireDirLock(${JSON.stringify(dir)}, {
      staleMs: 20000, updateMs: ${updateMs}, waitMs: 0, onCompromised: (err) => console.log("compromised:", err.message),
    });
    console.log("locked");
    ${then}`;
  const child = execa(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    cwd: process.cwd(),
    reject: false,
  });
  const locked = new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
  return { child, locked };
}

describe("lock folder", () => {
  test("one holder at a time: release removes the folder and the lock can be taken again", async () => {
    const dir = lockDir();
    const release = await acquireDirLock(dir, options());
    expect(fs.statSync(dir).isDirectory()).toBe(true);
    await expect(acquireDirLock(dir, options())).rejects.toThrow(LockBusyError);
    await release();
    expect(fs.existsSync(dir)).toBe(false);
    const again = await acquireDirLock(dir, options());
    await again();
    expect(fs.existsSync(dir)).toBe(false);
  });

  test("a waiter keeps trying for waitMs and then gives up; one that outlasts the holder gets it", async () => {
    const dir = lockDir();
    const release = await acquireDirLock(dir, options());
    const started = Date.now();
    await expect(acquireDirLock(dir, options({ waitMs: 500 }))).rejects.toThrow(LockBusyError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    const waiter = acquireDirLock(dir, options({ waitMs: 5000 }));
    await sleep(300);
    await release();
    const next = await waiter;
    expect(fs.existsSync(dir)).toBe(true);
    await next();
  });

  test("a folder not refreshed for staleMs is a dead holder's: taken over; a fresher one is not", async () => {
    const dir = lockDir();
    fs.mkdirSync(dir);
    setMtime(dir, Date.now() - 1000);
    await expect(acquireDirLock(dir, options())).rejects.toThrow(LockBusyError);
    setMtime(dir, Date.now() - 3000);
    const release = await acquireDirLock(dir, options());
    expect(Date.now() - fs.statSync(dir).mtimeMs).toBeLessThan(2000);
    await release();
    expect(fs.existsSync(dir)).toBe(false);
  });

  test("the holder refreshes the mtime, so a long hold is never taken for a dead one", async () => {
    const dir = lockDir();
    const opts = options({ staleMs: 2000, updateMs: 100 });
    const release = await acquireDirLock(dir, opts);
    const first = fs.statSync(dir).mtimeMs;
    await sleep(2500);
    expect(fs.statSync(dir).mtimeMs).toBeGreaterThan(first);
    await expect(acquireDirLock(dir, options())).rejects.toThrow(LockBusyError);
    expect(opts.compromises).toEqual([]);
    await release();
  });

  test("a holder whose folder was removed is told so, once", async () => {
    const dir = lockDir();
    const opts = options();
    const release = await acquireDirLock(dir, opts);
    fs.rmdirSync(dir);
    await sleep(500);
    expect(opts.compromises.map((e) => e.message)).toEqual(["its folder was removed"]);
    await release();
  });

  test("a holder whose lock was taken over is told so, and its release leaves the new holder's folder", async () => {
    const dir = lockDir();
    const opts = options();
    const release = await acquireDirLock(dir, opts);
    // What a taker does with a folder it found stale: remove it and make its own.
    fs.rmdirSync(dir);
    fs.mkdirSync(dir);
    setMtime(dir, Date.now() + 5000);
    await sleep(500);
    expect(opts.compromises).toHaveLength(1);
    expect(opts.compromises[0]!.message).toMatch(/taken over/);
    await release();
    expect(fs.existsSync(dir)).toBe(true);
  });

  test("release before any refresh leaves a folder that is no longer this holder's", async () => {
    const dir = lockDir();
    const opts = options({ updateMs: 60_000 });
    const release = await acquireDirLock(dir, opts);
    fs.rmdirSync(dir);
    fs.mkdirSync(dir);
    setMtime(dir, Date.now() + 5000);
    await release();
    expect(fs.existsSync(dir)).toBe(true);
  });

  // The first lock of a process also probes the file system's mtime precision.
  test("a process's first lock is refreshed, not taken for lost", async () => {
    const dir = lockDir();
    const { child, locked } = holderProcess(
      dir,
      "setTimeout(async () => { await release(); console.log('released'); }, 1000);",
      100,
    );
    await locked;
    const { stdout, exitCode } = await child;
    expect(exitCode).toBe(0);
    expect(stdout.split("\n").slice(1)).toEqual(["released"]);
    expect(fs.existsSync(dir)).toBe(false);
  }, 30_000);

  test("a holder that exits, or dies of SIGTERM, leaves no folder behind", async () => {
    for (const [then, signal] of [
      ["process.exit(1);", undefined],
      ["setInterval(() => {}, 1000);", "SIGTERM"],
    ] as const) {
      const dir = lockDir();
      const { child, locked } = holderProcess(dir, then);
      await locked;
      if (signal) child.kill(signal);
      const result = await child;
      expect(result.signal ?? result.exitCode).toBe(signal ?? 1);
      expect(fs.existsSync(dir)).toBe(false);
    }
  }, 30_000);

  // Earlier versions of AMS locked with proper-lockfile: during an upgrade, both may run at once.
  test("it excludes proper-lockfile's lock on the same file, both ways", async () => {
    const dir = lockDir();
    const file = dir.replace(/\.lock$/, "");
    const older = await lockfile.lock(file, { realpath: false, stale: 20_000 });
    await expect(acquireDirLock(dir, options())).rejects.toThrow(LockBusyError);
    await older();
    const { child, locked } = holderProcess(dir, "setInterval(() => {}, 1000);");
    await locked;
    await expect(lockfile.lock(file, { realpath: false, stale: 20_000 })).rejects.toMatchObject({ code: "ELOCKED" });
    child.kill("SIGKILL");
    await child;
  }, 30_000);
});
