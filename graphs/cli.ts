#!/usr/bin/env node
import { amsProgram, openJob, runProgram, UsageError } from "../lib/cli.js";
import { RANGES, findRange } from "./ranges.js";
import { renderSite } from "./render.js";

const program = amsProgram("ams-graphs", "Render the charts and pages of the dashboard into public/.")
  .option("--range <range>", `render only the charts of one range: ${RANGES.map((r) => r.name).join(", ")}`)
  .option("--server <name>", "render only this server's charts and page (and the index)")
  .action(async (opts: { home?: string; range?: string; server?: string }) => {
    const range = opts.range === undefined ? undefined : findRange(opts.range);
    if (opts.range !== undefined && !range) throw new UsageError(`--range: unknown range "${opts.range}"; valid: ${RANGES.map((r) => r.name).join(", ")}`);
    const job = openJob("graphs", opts.home);
    const started = performance.now();
    const summary = await renderSite(job, { range: range?.name, server: opts.server });
    const seconds = (performance.now() - started) / 1000;
    const peakMb = process.resourceUsage().maxRSS / 1024;
    process.stdout.write(
      `ams-graphs: ${summary.pages} pages, ${summary.charts} charts in ${seconds.toFixed(2)} s ` +
        `(largest chart ${(summary.largestChart / 1024).toFixed(1)} KB, peak memory ${peakMb.toFixed(0)} MB) → ${job.paths.publicDir}\n`,
    );
  });

await runProgram(program);
