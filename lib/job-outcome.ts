import type { Logger } from "./log.js";
import { UsageError } from "./usage-error.js";

/**
 * How a run of a command ends, without commander: the plain `ams-sensor NAME… --home DIR` form that
 * cron starts does not load it (lib/cli.ts, which does, maps its own errors first).
 */

/** The run of a job that another run still holds: this one stops at once, exit 0 (see exitCodeOf). */
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
 * Runs a command's action and turns what it throws into the exit codes of
 * docs/ARCHITECTURE.md#commands: 0 success (or a skipped run), 1 a failure explained on stderr, 2 a
 * usage error. Actions signal failure by setting process.exitCode.
 */
export async function runAction(name: string, action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (err) {
    if (err instanceof RunSkipped) {
      process.exitCode = 0;
      return;
    }
    process.stderr.write(`${name}: ${(err as Error).message}\n`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  }
}
