import { Command, CommanderError } from "commander";
import type { Config } from "./config.js";
import { loadJobConfig } from "./job-config.js";
import { jobLogger, type Logger } from "./log.js";
import { amsPaths, resolveHome, type Paths } from "./paths.js";

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

/** A commander program with the options every AMS command shares (DESIGN.md: --help, --home). */
export function amsProgram(name: string, description: string): Command {
  return new Command(name)
    .description(description)
    .option("--home <dir>", "AMS data folder (default: $AMS_HOME, else the install folder)")
    .exitOverride();
}

/** Resolves the data home from --home/$AMS_HOME and loads the config; throws ConfigError on bad config. */
export async function openJob(job: string, home?: string): Promise<Job> {
  const paths = amsPaths(resolveHome(home));
  const config = await loadJobConfig(paths);
  return { paths, config, log: jobLogger(paths.logsDir, job, config.logs) };
}

/** Reports a problem that fails this run (exit 1) without stopping it: a state file set aside and rebuilt. */
export const failRunWith =
  (log: Logger) =>
  (message: string): void => {
    log.error(message);
    process.exitCode = 1;
  };

/**
 * Runs a program and turns the outcome into the exit codes of DESIGN.md: 0 success,
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
    if (err instanceof UsageError) {
      process.stderr.write(`${program.name()}: ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`${program.name()}: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
