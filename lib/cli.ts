import path from "node:path";
import { Command, CommanderError } from "commander";
import type { Config } from "./config.js";
import { loadJobConfig } from "./job-config.js";
import { jobLogger, type Logger } from "./log.js";
import { amsPaths, resolveHome, type Paths } from "./paths.js";
import type { ScheduledJob } from "./deadlines.js";
import { acquireRunLock } from "./run-lock.js";

/** A mistake in how the command was called: exit 2, like commander's own usage errors. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Everything a job needs: where its files are, its validated config, its log. */
export interface Job {
  paths: Paths;
  config: Config;
  log: Logger;
}

/** A commander program with the options every AMS command shares (docs/ARCHITECTURE.md#commands: --help, --home). */
export function amsProgram(name: string, description: string): Command {
  return new Command(name)
    .description(description)
    .option("--home <dir>", "AMS data folder (default: $AMS_HOME, else the install folder)")
    .exitOverride();
}

/** The run of a job that another run still holds: this one stops at once, exit 0 (see runProgram). */
export class RunSkipped extends Error {
  override name = "RunSkipped";
}

export interface RunOptions {
  /**
   * A run cron starts: only one at a time (storage/state/<job>[-<instance>].run.lock; a second run
   * logs who holds it and exits 0), and stopped with exit 1 at its deadline (config `deadlines`).
   */
  scheduled?: boolean;
  /** Runs of one job that may go side by side (ams-sensor's sensor lists): each has its own lock. */
  instance?: string;
}

/** The lock file of a job's runs; the instance made safe as a file name. */
export const runLockFile = (paths: Paths, job: string, instance?: string) =>
  path.join(paths.stateDir, `${job}${instance ? `-${instance.replace(/[^A-Za-z0-9_.+-]/g, "_")}` : ""}.run.lock`);

function guardRun(job: ScheduledJob, { paths, config, log }: Job, instance?: string): void {
  const lock = acquireRunLock(runLockFile(paths, job, instance));
  if (!lock.acquired) {
    const holder = lock.holder ? `since ${lock.holder.since} (pid ${lock.holder.pid})` : "(lock being replaced)";
    log.warn(`previous run${instance ? ` of ${instance}` : ""} still going ${holder}: this run is skipped`);
    throw new RunSkipped();
  }
  process.once("exit", () => lock.release());
  const seconds = config.deadlines[job];
  // Unref'd: a run that finishes in time is not held back by its own deadline.
  setTimeout(() => {
    log.error(`stopped at its deadline of ${seconds} s (config deadlines.${job}): work not finished`);
    // Writes are atomic (temporary file + rename) and file locks go with the process: exiting here loses only this run.
    process.exit(1);
  }, seconds * 1000).unref();
}

/**
 * Resolves the data home from --home/$AMS_HOME and loads the config; throws ConfigError on bad
 * config. A scheduled run also takes its run lock and arms its deadline (throws RunSkipped when
 * another run holds the lock).
 */
export async function openJob(job: ScheduledJob, home: string | undefined, run: RunOptions): Promise<Job>;
export async function openJob(job: string, home?: string): Promise<Job>;
export async function openJob(job: string, home?: string, run: RunOptions = {}): Promise<Job> {
  const paths = amsPaths(resolveHome(home));
  const config = await loadJobConfig(paths);
  const opened = { paths, config, log: jobLogger(paths.logsDir, job, config.logs) };
  if (run.scheduled) guardRun(job as ScheduledJob, opened, run.instance);
  return opened;
}

/**
 * Runs a program and turns the outcome into the exit codes of docs/ARCHITECTURE.md#commands: 0 success,
 * 1 a failure explained on stderr, 2 a usage error. Actions signal failure by setting process.exitCode.
 */
export async function runProgram(program: Command, argv: string[] = process.argv): Promise<void> {
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    if (err instanceof RunSkipped) {
      process.exitCode = 0;
      return;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`${program.name()}: ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`${program.name()}: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
