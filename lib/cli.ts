import { Command, CommanderError } from "commander";
import type { Logger } from "./log.js";
import { UsageError } from "./usage-error.js";

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

/** Reports a problem that fails this run (exit 1) without stopping it: a state file set aside and rebuilt. */
export const failRunWith =
  (log: Logger) =>
  (message: string): void => {
    log.error(message);
    process.exitCode = 1;
  };

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
