// Times the built ams-graphs on synthetic fleets: 1, 10 and 100 servers with 7 days of samples at
// the default schedule, every range page rendered: the first run (every store read whole), the
// steady state (each store 5 minutes longer, appended in place as the sensors and pulls append)
// and a rerun with no new data; budgets: the first run 10 servers 3 s, 100 servers 30 s, a page
// 400 KB, a chart (inline SVG) 150 KB. Run after `npm run build`: node --import tsx scripts/bench-graphs.ts
// (SERVERS=1,10 picks the fleet sizes; KEEP=1 keeps the generated data homes.)
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { installDir } from "../lib/paths.js";
import { appendJsonArray } from "../storage/locked-file.js";
import { CRON_ENV } from "./bench-measure.js";
import { captureRealShapes, realRecords } from "./bench-records.js";

const DAYS = 7;
/** What a steady-state run finds new: one period of ams-graphs under cron. */
const STEP_MS = 5 * 60_000;
const shapes = await captureRealShapes();

const BUDGET_SECONDS: Record<number, number> = { 10: 3, 100: 30 };
const PAGE_BUDGET = 400 * 1024;
const CHART_BUDGET = 150 * 1024;

function largestFile(dir: string, ext: string): number {
  let largest = 0;
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith(ext))
      largest = Math.max(largest, fs.statSync(path.join(entry.parentPath, entry.name)).size);
  }
  return largest;
}

console.log(
  `ams-graphs, ${DAYS} days of samples per server shaped like this machine's sensors' at the periods of crontab.example, load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores`,
);
for (const servers of (process.env.SERVERS ?? "1,10,100").split(",").map(Number)) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "ams-bench-graphs-"));
  const now = Date.now();
  fs.mkdirSync(path.join(home, "storage", "remote"), { recursive: true });
  const names = Array.from({ length: servers }, (_, i) => `bench-${String(i).padStart(2, "0")}`);
  // This server is bench-00; the others are remotes of the config, as ams-fetch-remote would have pulled them.
  const remotes = names.slice(1).map((name) => ({ name, host: `${name}.example.org`, user: "ams" }));
  fs.writeFileSync(path.join(home, "ams.config.json"), JSON.stringify({ server_id: names[0], remotes }));
  let count = 0;
  const storeOf = (i: number, name: string) =>
    i === 0
      ? path.join(home, "storage", "system_logs.json")
      : path.join(home, "storage", "remote", `${name}_logs.json`);
  for (const [i, name] of names.entries()) {
    const samples = realRecords(shapes, name, now, DAYS, i);
    count += samples.length;
    // Through AMS's writer, which later appends to what it wrote in place.
    await appendJsonArray(storeOf(i, name), samples);
  }
  const graphs = (at: number) =>
    spawnSync(process.execPath, [path.join(installDir, "dist", "ams-graphs.js"), "--home", home], {
      encoding: "utf8",
      env: { ...CRON_ENV, AMS_NOW: new Date(at).toISOString() },
    });
  /** Runs ams-graphs at `at`: wall seconds and what it printed. */
  const measured = (at: number) => {
    const started = performance.now();
    const run = graphs(at);
    const seconds = (performance.now() - started) / 1000;
    if (run.status !== 0) throw new Error(`ams-graphs failed: ${run.stderr}`);
    const figure = (pattern: RegExp) => pattern.exec(run.stdout)?.[1] ?? "?";
    return {
      seconds,
      stdout: run.stdout,
      line: `${seconds.toFixed(2)} s (CPU ${figure(/CPU ([\d.]+) s/)} s), peak memory ${figure(/peak memory (\d+) MB/)} MB`,
    };
  };
  const first = measured(now);
  const pages = /(\d+) pages/.exec(first.stdout)?.[1] ?? "?";
  const charts = /(\d+) charts/.exec(first.stdout)?.[1] ?? "?";
  const largestChart = Number(/largest chart ([\d.]+) KB/.exec(first.stdout)?.[1] ?? NaN) * 1024;
  const largestPage = largestFile(path.join(home, "public"), ".html");
  const budget = BUDGET_SECONDS[servers];
  console.log(
    `${String(servers).padStart(3)} servers, ${count} samples, first run: ${first.line}, ` +
      `${pages} pages, ${charts} charts, largest page ${(largestPage / 1024).toFixed(1)} KB, largest SVG ${(largestChart / 1024).toFixed(1)} KB` +
      (budget !== undefined && first.seconds > budget ? `  OVER ${budget} s` : "") +
      `${largestPage > PAGE_BUDGET ? "  PAGE OVER 400 KB" : ""}${largestChart > CHART_BUDGET ? "  SVG OVER 150 KB" : ""}`,
  );
  // Steady state: every store 5 minutes longer, as the next cron run finds them.
  for (const [i, name] of names.entries()) {
    const next = realRecords(shapes, name, now + STEP_MS, STEP_MS / 86400_000, i).filter(
      (s) => Date.parse(s.timestamp) > now && s.metric_type !== "CERT",
    );
    await appendJsonArray(storeOf(i, name), next);
  }
  const steady = measured(now + STEP_MS);
  const reads = /stores read (\d+ from the last run's end and \d+ whole)/.exec(steady.stdout)?.[1] ?? "?";
  // A week chart's 42-minute step that completes within the 5 minutes redraws every week chart.
  const reused = /\((\d+) reused\)/.exec(steady.stdout)?.[1] ?? "?";
  console.log(
    `    steady state, 5 minutes of new samples in every store: ${steady.line} (stores read ${reads}; ${reused} charts reused)`,
  );
  // The next run with no new data: it only checks that nothing the pages show changed.
  const again = performance.now();
  const rerun = graphs(now + STEP_MS);
  if (rerun.status !== 0 || !rerun.stdout.includes("pages up to date")) throw new Error(`rerun drew: ${rerun.stdout}`);
  console.log(`    rerun with no new data: ${((performance.now() - again) / 1000).toFixed(2)} s (drew nothing)`);
  if (process.env.KEEP) console.log(home);
  else fs.rmSync(home, { recursive: true, force: true });
}
