#!/usr/bin/env node
import { openJob } from "../config/job.js";
import { amsProgram, runProgram } from "../lib/cli.js";
import { failRunWith } from "../lib/run-outcome.js";
import { UsageError } from "../lib/usage-error.js";
import { now } from "../lib/clock.js";
import { checkDrawnPages, recordDrawnPages } from "../storage/drawn-pages.js";
import { RANGES, findRange } from "./ranges.js";
import { renderSite } from "./render.js";

const program = amsProgram("ams-graphs", "Render the charts and pages of the dashboard into public/.")
  .option("--range <range>", `render only the charts of one range: ${RANGES.map((r) => r.name).join(", ")}`)
  .option("--server <name>", "render only this server's pages (and the index)")
  .option("--force", "redraw even when nothing the pages show has changed since the last run")
  .action(async (opts: { home?: string; range?: string; server?: string; force?: boolean }) => {
    const range = opts.range === undefined ? undefined : findRange(opts.range);
    if (opts.range !== undefined && !range)
      throw new UsageError(`--range: unknown range "${opts.range}"; valid: ${RANGES.map((r) => r.name).join(", ")}`);
    const job = await openJob("graphs", opts.home, { scheduled: true });
    const at = now();
    const whole = range === undefined && opts.server === undefined;
    // Taken before anything is read: a change made while drawing makes the next run draw again.
    const drawn = whole ? await checkDrawnPages(job.paths, job.config, at, failRunWith(job.log)) : undefined;
    if (drawn?.upToDate && !opts.force) {
      const line = "pages up to date: nothing they show changed since the last drawing";
      job.log.info(line);
      process.stdout.write(`ams-graphs: ${line}\n`);
      return;
    }
    const started = performance.now();
    const summary = await renderSite(job, { range: range?.name, server: opts.server }, at);
    if (drawn && summary.unreadable.length === 0) await recordDrawnPages(job.paths, drawn.inputs, at);
    const seconds = (performance.now() - started) / 1000;
    const usage = process.resourceUsage();
    const cpuSeconds = (usage.userCPUTime + usage.systemCPUTime) / 1e6;
    process.stdout.write(
      `ams-graphs: ${summary.pages} pages, ${summary.charts} charts (${summary.reused} reused) in ${seconds.toFixed(2)} s, ` +
        `stores read ${summary.reads.tail} from the last run's end and ${summary.reads.whole} whole ` +
        `(CPU ${cpuSeconds.toFixed(2)} s, peak memory ${(usage.maxRSS / 1024).toFixed(0)} MB, largest chart ${(summary.largestChart / 1024).toFixed(1)} KB, largest page ${(summary.largestPage / 1024).toFixed(1)} KB) → ${job.paths.publicDir}\n`,
    );
    if (summary.unreadable.length > 0) process.exitCode = 1; // said on stderr by the job log
  });

void runProgram(program);
