import type { Logger } from "./log.js";
import { UsageError } from "./usage-error.js";

/** The run of a job that another run still holds: this one stops at once, exit 0 (see runCommand). */
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
 * Runs a command's work and turns its outcome into the exit codes of docs/ARCHITECTURE.md#commands:
 * 0 success, 1 a failure explained on stderr, 2 a usage error. Work signals failure by setting
 * process.exitCode. Needs no commander, so a command line in its plainest form can skip loading it
 * (lib/plain-args.ts).
 */
export async function runCommand(name: string, work: () => Promise<unknown>): Promise<void> {
  try {
    await work();
  } catch (err) {
    if (err instanceof RunSkipped) {
      process.exitCode = 0;
      return;
    }
    process.stderr.write(`${name}: ${(err as Error).message}\n`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  }
}
