import { Command, CommanderError } from "commander";
import { HOME_OPTION, type OptionSpec } from "./plain-args.js";
import { runCommand } from "./run-outcome.js";

/**
 * A commander program with the options every AMS command shares (docs/ARCHITECTURE.md#commands:
 * --help, --home), and `options` (declared as data when plainArgs parses them too).
 */
export function amsProgram(name: string, description: string, options: readonly OptionSpec[] = []): Command {
  const program = new Command(name).description(description).exitOverride();
  for (const option of [HOME_OPTION, ...options]) program.option(option.flags, option.description);
  return program;
}

/** Runs a program with runCommand's exit codes; commander has already explained its own usage errors. */
export async function runProgram(program: Command, argv: string[] = process.argv): Promise<void> {
  await runCommand(program.name(), async () => {
    try {
      await program.parseAsync(argv);
    } catch (err) {
      if (!(err instanceof CommanderError)) throw err;
      process.exitCode = err.exitCode === 0 ? 0 : 2;
    }
  });
}
