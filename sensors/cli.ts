#!/usr/bin/env node
import { openJob } from "../config/job.js";
import { amsProgram, runProgram } from "../lib/cli.js";
import { now } from "../lib/clock.js";
import { UsageError } from "../lib/usage-error.js";
import { formatSample } from "../storage/format-value.js";
import { builtinSensors, GROUPS, selectSensors } from "./registry.js";
import { runSensors } from "./run.js";

const JOB = "sensor";

const program = amsProgram("ams-sensor", "Measure this server and store the samples in storage/system_logs.json.")
  .argument(
    "<sensors...>",
    `sensor names (${builtinSensors.map((s) => s.name).join(", ")}, or a plugin's file name in sensors.d), "plugins" or "all"`,
  )
  .option("--json", "print the samples as JSON instead of readable lines")
  .option("--dry-run", "measure and print, store nothing")
  .action(async (names: string[], opts: { home?: string; json?: boolean; dryRun?: boolean }) => {
    // Each list of sensors is its own run: "cpu" every 2 minutes is not held back by a slow "cert".
    const job = await openJob(JOB, opts.home, {
      scheduled: !opts.dryRun,
      instance: [...new Set(names)].sort().join("+"),
    });
    const { sensors, unknown, valid } = await selectSensors(names, job);
    if (unknown.length > 0)
      throw new UsageError(
        `unknown sensor ${unknown.map((n) => `"${n}"`).join(", ")}; valid: ${[...valid, ...GROUPS].join(", ")}`,
      );
    const { paths, config, log } = job;
    const { outcomes, movedAside } = await runSensors(
      sensors,
      { paths, config, log, now: () => now() },
      { dryRun: opts.dryRun },
    );
    const samples = outcomes.flatMap((o) => o.samples);
    if (opts.json) process.stdout.write(`${JSON.stringify(samples, null, 2)}\n`);
    else for (const sample of samples) process.stdout.write(`${formatSample(sample)}\n`);
    if (movedAside || outcomes.some((o) => o.error)) process.exitCode = 1;
  });

await runProgram(program);
