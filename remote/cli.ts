#!/usr/bin/env node
import { openJob } from "../config/job.js";
import { amsProgram, runProgram } from "../lib/cli.js";
import { now } from "../lib/clock.js";
import { fetchRemotes } from "./fetch-remote.js";

const program = amsProgram(
  "ams-fetch-remote",
  "Pull every configured remote's store over ssh into storage/remote/<name>_logs.json (only what it appended since the last pull, when that is all that changed), keeping the last good copy on failure.",
)
  .option("--accept-new-host", "trust and remember the host key of a server seen for the first time (this run only)")
  .action(async (opts: { home?: string; acceptNewHost?: boolean }) => {
    const { paths, config, log } = await openJob("fetch-remote", opts.home, { scheduled: true });
    if (config.remotes.length === 0) {
      process.stdout.write(`no remotes configured in ${paths.config}\n`);
      return;
    }
    const outcomes = await fetchRemotes(config.remotes, {
      paths,
      fetch: config.fetch,
      log,
      acceptNewHost: opts.acceptNewHost,
      now: () => now(),
    });
    for (const o of outcomes) {
      process.stdout.write(
        o.ok
          ? `${o.remote}: ${o.records} records${o.foreign ? `, ${o.foreign} naming other servers skipped` : ""} (${o.durationSeconds} s)\n`
          : `${o.remote}: FAILED (${o.durationSeconds} s): ${o.error}\n`,
      );
    }
    if (outcomes.some((o) => !o.ok)) process.exitCode = 1;
  });

void runProgram(program);
