import path from "node:path";
import { RunSkipped } from "../lib/run-outcome.js";
import type { ScheduledJob } from "../lib/deadlines.js";
import { loadJobConfig } from "../lib/job-config.js";
import { jobLogger, type Logger } from "../lib/log.js";
import { amsPaths, resolveHome, type Paths } from "../lib/paths.js";
import { acquireRunLock } from "../lib/run-lock.js";
import type { Config } from "./ams-config.js";

/** Everything a job needs: where its files are, its validated config, its log. */
export interface Job {
  paths: Paths;
  config: Config;
  log: Logger;
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
  process.once("exit", () => {
    lock.release();
  });
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
  // Imported only when the cached config cannot be used: building the schema is the slow part.
  const config = await loadJobConfig(paths, async (file) => (await import("./ams-config.js")).loadConfig(file));
  const opened = { paths, config, log: jobLogger(paths.logsDir, job, config.logs) };
  if (run.scheduled) guardRun(job as ScheduledJob, opened, run.instance);
  return opened;
}
