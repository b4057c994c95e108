import { Command, CommanderError } from "commander";
import { runAction } from "./job-outcome.js";

export { failRunWith, RunSkipped } from "./job-outcome.js";

/** A commander program with the options every AMS command shares (docs/ARCHITECTURE.md#commands: --help, --home). */
export function amsProgram(name: string, description: string): Command {
  return new Command(name)
    .description(description)
    .option("--home <dir>", "AMS data folder (default: $AMS_HOME, else the install folder)")
    .exitOverride();
}

/**
 * Runs a program and turns the outcome into the exit codes of docs/ARCHITECTURE.md#commands (see
 * runAction); commander's own usage errors exit 2, its --help 0.
 */
export async function runProgram(program: Command, argv: string[] = process.argv): Promise<void> {
  await runAction(program.name(), async () => {
    try {
      await program.parseAsync(argv);
    } catch (err) {
      if (!(err instanceof CommanderError)) throw err;
      process.exitCode = err.exitCode === 0 ? 0 : 2;
    }
  });
}
