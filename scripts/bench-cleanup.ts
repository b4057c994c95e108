// Cleanup time for a store of 100k records: the pure pass, and the whole ams-cleanup run (node
// start, lock, read, rewrite, rename). Run with `node --import tsx scripts/bench-cleanup.ts` after
// `npm run build`.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { installDir } from "../lib/paths.js";
import { isoLocal } from "../lib/time.js";
import { cleanupSamples } from "../storage/cleanup.js";
import { formatJsonArray } from "../storage/locked-file.js";
import { RetentionConfig } from "../storage/retention-config.js";

const COUNT = 100_000;
const DAYS = 30;
const now = Date.now();
const records = Array.from({ length: COUNT }, (_, i) => ({
  server_id: "bench",
  metric_type: ["CPU", "RAM", "Disk", "Processes", "Users"][i % 5]!,
  timestamp: isoLocal(new Date(now - DAYS * 86_400_000 + (i * DAYS * 86_400_000) / COUNT)),
  value: (i * 7) % 100,
  unit: i % 5 >= 3 ? "count" : "%",
  ...(i % 5 === 2 ? { labels: { mount: "/" } } : {}),
}));

let started = performance.now();
const { report } = cleanupSamples(records, {
  retention: RetentionConfig.parse({}),
  now: new Date(now),
  fallbackServerId: "bench",
});
const pureMs = performance.now() - started;

const home = fs.mkdtempSync(path.join(os.tmpdir(), "ams-bench-"));
const store = path.join(home, "storage", "system_logs.json");
fs.mkdirSync(path.dirname(store), { recursive: true });
fs.writeFileSync(store, formatJsonArray(records));
const sizeMiB = fs.statSync(store).size / 1048576;
started = performance.now();
execFileSync(process.execPath, [path.join(installDir, "dist", "ams-cleanup.js"), "--home", home]);
const cliMs = performance.now() - started;
fs.rmSync(home, { recursive: true, force: true });

console.log(
  `cleanup of ${COUNT} records over ${DAYS} days (${sizeMiB.toFixed(1)} MiB → ${report.recordsAfter} records):`,
);
console.log(`  cleanupSamples (pure)  ${pureMs.toFixed(0)} ms`);
console.log(`  ams-cleanup (whole run) ${cliMs.toFixed(0)} ms`);
