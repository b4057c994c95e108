#!/usr/bin/env node
import { openJob } from "../config/job.js";
import { now } from "../lib/clock.js";
import { HOME_OPTION, plainArgs, type OptionSpec } from "../lib/plain-args.js";
import { runCommand } from "../lib/run-outcome.js";
import { writeStdout } from "../lib/stdout.js";
import { UsageError } from "../lib/usage-error.js";
import { formatSample } from "../storage/format-value.js";
import { builtinSensors, GROUPS, selectSensors } from "./registry.js";
import { runSensors } from "./run.js";

const NAME = "ams-sensor";
const JOB = "sensor";
const OPTIONS: OptionSpec[] = [
  { flags: "--json", description: "print the samples as JSON instead of readable lines" },
  { flags: "--dry-run", description: "measure and print, store nothing" },
];

async function measure(names: string[], opts: { home?: string; json?: boolean; dryRun?: boolean }): Promise<void> {
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
  writeStdout(
    opts.json ? `${JSON.stringify(samples, null, 2)}\n` : samples.map((s) => `${formatSample(s)}\n`).join(""),
  );
  if (movedAside || outcomes.some((o) => o.error)) process.exitCode = 1;
}

/** Any other command line, with commander's parsing, help and errors. */
async function withCommander(): Promise<void> {
  const { amsProgram, runProgram } = await import("../lib/cli.js");
  const program = amsProgram(NAME, "Measure this server and store the samples in storage/system_logs.json.", OPTIONS)
    .argument(
      "<sensors...>",
      `sensor names (${builtinSensors.map((s) => s.name).join(", ")}, or a plugin's file name in sensors.d), "plugins" or "all"`,
    )
    .action(measure);
  await runProgram(program);
}

// Cron's command lines (sensor names, --home) run without commander: loading it is about a fifth of
// this command's start-up, which cron pays 36 times an hour.
const plain = plainArgs(process.argv.slice(2), [HOME_OPTION, ...OPTIONS]);
void (plain ? runCommand(NAME, () => measure(plain.operands, plain.options)) : withCommander());
