#!/usr/bin/env node
import { openJob } from "../config/job.js";
import { now } from "../lib/clock.js";
import { runAction } from "../lib/job-outcome.js";
import { UsageError } from "../lib/usage-error.js";
import { formatSample } from "../storage/format-value.js";
import { builtinSensors, GROUPS, selectSensors } from "./registry.js";
import { runSensors } from "./run.js";

const JOB = "sensor";
const NAME = "ams-sensor";

interface MeasureOptions {
  home?: string;
  json?: boolean;
  dryRun?: boolean;
}

async function measure(names: string[], opts: MeasureOptions): Promise<void> {
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
}

/**
 * The form cron runs, `NAME… [--home DIR]`, read without commander, which costs a cron run about
 * 20 ms of start-up; any other form (--help, another flag, no name) goes through commander.
 */
function plainForm(args: string[]): { names: string[]; home?: string } | undefined {
  const at = args.indexOf("--home");
  const home = at >= 0 ? args[at + 1] : undefined;
  const names = at >= 0 ? [...args.slice(0, at), ...args.slice(at + 2)] : args;
  if ((at >= 0 && (home === undefined || home.startsWith("-"))) || names.length === 0) return undefined;
  return names.some((name) => name.startsWith("-")) ? undefined : { names, home };
}

const plain = plainForm(process.argv.slice(2));
if (plain) await runAction(NAME, () => measure(plain.names, { home: plain.home }));
else {
  const { amsProgram, runProgram } = await import("../lib/cli.js");
  const program = amsProgram(NAME, "Measure this server and store the samples in storage/system_logs.json.")
    .argument(
      "<sensors...>",
      `sensor names (${builtinSensors.map((s) => s.name).join(", ")}, or a plugin's file name in sensors.d), "plugins" or "all"`,
    )
    .option("--json", "print the samples as JSON instead of readable lines")
    .option("--dry-run", "measure and print, store nothing")
    .action((names: string[], opts: MeasureOptions) => measure(names, opts));
  await runProgram(program);
}
