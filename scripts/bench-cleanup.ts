// Big stores: for 100k, 500k and 1M records shaped like the real sensors' (500k and 1M are past the 50 MiB
// retention cap), the pure cleanup pass, a whole ams-cleanup run (node start, lock, read, rewrite,
// rename; its wall time and peak memory, on a fresh copy of the store each time), reading the store
// as every reader does, and one ams-sensor append under the lock. Run with
// `node --import tsx scripts/bench-cleanup.ts` after `npm run build`.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { installDir } from "../lib/paths.js";
import { cleanupSamples } from "../storage/cleanup.js";
import { formatJsonArray } from "../storage/locked-file.js";
import { RetentionConfig } from "../storage/retention-config.js";
import { readSamples } from "../storage/store.js";
import { measureCommands, median } from "./bench-measure.js";
import { captureRealShapes, realRecords } from "./bench-records.js";

const now = Date.now();
const cli = (name: string, args: string[]) =>
  execFileSync(process.execPath, [path.join(installDir, "dist", `${name}.js`), ...args], { stdio: "pipe" });

const shapes = await captureRealShapes();
const perDay = realRecords(shapes, "bench", now, 1).length;
/** The newest `count` records of a server whose sensors ran at the default schedule, shaped like the real ones. */
const records = (count: number) => realRecords(shapes, "bench", now, Math.ceil(count / perDay)).slice(-count);

const timed = async <T>(fn: () => T | Promise<T>): Promise<[T, number]> => {
  const started = performance.now();
  const result = await fn();
  return [result, performance.now() - started];
};

/** Whole ams-cleanup runs, each on a fresh copy of `text` (a run consolidates, so a second one would do less). */
function cleanupRuns(home: string, store: string, text: string, rounds = 3) {
  const runs = Array.from({ length: rounds }, () => {
    fs.writeFileSync(store, text);
    fs.rmSync(`${store}.written`, { force: true });
    return measureCommands(
      [[process.execPath, path.join(installDir, "dist", "ams-cleanup.js"), "--home", home]],
      1,
    )[0]!;
  });
  return {
    medianMs: median(runs.map((r) => r.medianMs)),
    bestMs: runs.reduce((best, r) => Math.min(best, r.bestMs), Infinity),
    peakMiB: runs.reduce((peak, r) => Math.max(peak, r.peakMiB), 0),
  };
}

for (const count of [100_000, 500_000, 1_000_000]) {
  const data = records(count);
  const [{ report }, pureMs] = await timed(() =>
    cleanupSamples(data, { retention: RetentionConfig.parse({}), now: new Date(now), fallbackServerId: "bench" }),
  );
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "ams-bench-"));
  try {
    const store = path.join(home, "storage", "system_logs.json");
    fs.mkdirSync(path.dirname(store), { recursive: true });
    const text = formatJsonArray(data);
    fs.writeFileSync(store, text);
    const sizeMiB = fs.statSync(store).size / 1048576;
    const [read, readMs] = await timed(() => readSamples(store, "bench"));
    const [, appendMs] = await timed(() => cli("ams-sensor", ["ram", "--home", home]));
    const whole = cleanupRuns(home, store, text);
    console.log(`store of ${count} records over ${Math.ceil(count / perDay)} days (${sizeMiB.toFixed(1)} MiB):`);
    console.log(`  readSamples (every reader)  ${readMs.toFixed(0)} ms, ${read.samples.length} samples`);
    console.log(`  ams-sensor ram (parse + append under the lock)  ${appendMs.toFixed(0)} ms`);
    console.log(`  cleanupSamples (pure)  ${pureMs.toFixed(0)} ms → ${report.recordsAfter} records`);
    console.log(
      `  ams-cleanup (whole run)  ${whole.medianMs.toFixed(0)} ms median of 3, ${whole.bestMs.toFixed(0)} ms best, ` +
        `peak ${whole.peakMiB.toFixed(0)} MiB`,
    );
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
}
