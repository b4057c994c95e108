#!/usr/bin/env node
import path from "node:path";
import type { Command } from "commander";
import { pruneAlertHistory } from "../alerts/prune.js";
import { openJob } from "../config/job.js";
import { amsProgram, runProgram } from "../lib/cli.js";
import { now } from "../lib/clock.js";
import { rotateLogFile } from "../lib/log.js";
import { isoLocal } from "../lib/time.js";
import { readFiringAlerts } from "./alert-state.js";
import { cleanupSamples, startCleanup, type CleanupReport } from "./cleanup.js";
import { readJsonArray } from "./locked-file.js";
import { rewriteSamples } from "./store.js";

const JOB = "cleanup";

const mib = (n: number) => `${(n / 1048576).toFixed(2)} MiB`;

/** What a run did (or, dry, would do): the changes when a batch was due, otherwise when the next one is. */
function describe(r: CleanupReport): string {
  const unreadable = r.unreadable > 0 ? `, ${r.unreadable} unreadable record(s) left untouched` : "";
  if (!r.due) {
    const before = `${r.recordsBefore} records (${mib(r.bytesBefore)}), nothing written`;
    if (r.dueAt === undefined) return `${before}: nothing ages${unreadable}`;
    const waiting = r.consolidated > 0 ? `${r.consolidated} raw sample(s) past raw_days wait for the next batch, ` : "";
    return `${before}: ${waiting}next batch due ${isoLocal(new Date(r.dueAt))} (retention.consolidate_every)${unreadable}`;
  }
  return (
    `${r.recordsBefore} → ${r.recordsAfter} records (${mib(r.bytesBefore)} → ${mib(r.bytesAfter)}): ` +
    `${r.consolidated} raw sample(s) consolidated into ${r.rollupsWritten} hourly rollup(s), ` +
    `${r.expired} expired, ${r.certDropped} old CERT advisories dropped, ${r.capped} dropped by the size cap` +
    unreadable
  );
}

const program = amsProgram(
  "ams-cleanup",
  'Keep the stores bounded: consolidate and expire old samples (README, "Retention").',
);

program
  .command("samples", { isDefault: true })
  .description(
    "consolidate samples older than retention.raw_days into hourly rollups, expire old rollups, cap the file size " +
      "(in batches: see retention.consolidate_every)",
  )
  .option("--dry-run", "report what would change, change nothing")
  .action(async (opts: { dryRun?: boolean }, command: Command) => {
    const { home } = command.optsWithGlobals<{ home?: string }>();
    const { paths, config, log } = await openJob(JOB, home, { scheduled: !opts.dryRun });
    const options = { retention: config.retention, now: now(), fallbackServerId: config.server_id };
    if (opts.dryRun) {
      const { report } = cleanupSamples(await readJsonArray(paths.store), options);
      process.stdout.write(`${report.due ? "would change " : "(dry run) "}${describe(report)}\n`);
      return;
    }
    // Only this server's store: remote copies are replaced whole by each pull, their owner cleans them.
    // A rewrite costs the store's whole size: it waits until a batch is due (report.due).
    const { result: plan, ...result } = await rewriteSamples(
      paths.store,
      () => startCleanup(options),
      ({ rewrite, report }) => (report.due ? rewrite : undefined),
    );
    if (result.movedAside) {
      log.error(`${result.readError ?? paths.store}: moved aside to ${result.movedAside}; a fresh store was started`);
      process.exitCode = 1;
    }
    const line = describe(plan.report);
    log.info(line);
    process.stdout.write(`${line}\n`);
    // logs/cron.log is appended to by the crontab's redirects, not by a job: the upkeep job bounds it.
    rotateLogFile(path.join(paths.logsDir, "cron.log"), config.logs);
  });

program
  .command("alerts")
  .description("bound storage/alerts_log.json by age and count (alerts.history), keeping alerts still firing")
  .action(async (_opts: unknown, command: Command) => {
    const { paths, config, log } = await openJob(JOB, command.optsWithGlobals<{ home?: string }>().home, {
      scheduled: true,
      instance: "alerts",
    });
    const { max_days, max_entries } = config.alerts.history;
    // Events of alerts still firing are kept whatever their age: the pages say since when they fire.
    const firingKeys = (await readFiringAlerts(paths)).map((a) => a.key);
    const result = await pruneAlertHistory(paths.alertsLog, {
      maxDays: max_days,
      maxEntries: max_entries,
      now: now(),
      firingKeys,
    });
    const line = `alert history: ${result.removed} removed, ${result.kept} kept`;
    log.info(line);
    process.stdout.write(`${line}\n`);
  });

void runProgram(program);
