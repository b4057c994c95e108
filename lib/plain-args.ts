/** A long option as commander declares it: "--name" for a switch, "--name <value>" for one taking a value. */
export interface OptionSpec {
  flags: string;
  description: string;
}

/** The option every AMS command takes. */
export const HOME_OPTION: OptionSpec = {
  flags: "--home <dir>",
  description: "AMS data folder (default: $AMS_HOME, else the install folder)",
};

export interface PlainArgs {
  operands: string[];
  /** By commander's key: "--dry-run" is dryRun; a switch is true, an option's value its last one. */
  options: Record<string, string | true>;
}

/** commander's key for a long option: --dry-run → dryRun. */
const optionKey = (name: string) => name.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());

/**
 * The operands and options of a command line in its plainest form, as commander would parse it:
 * operands, and the long options of `specs` as `--switch`, `--name value` or `--name=value`.
 * Anything else (no operand, --help, a short or unknown option, `--`, a value that starts with "-",
 * an operand that starts with "-") is undefined, and commander parses it, with its help and its
 * errors. This lets a command that cron starts many times an hour skip loading commander.
 */
export function plainArgs(argv: readonly string[], specs: readonly OptionSpec[]): PlainArgs | undefined {
  const takesValue = new Map<string, boolean>();
  for (const spec of specs) {
    const [name, value] = spec.flags.split(" ");
    takesValue.set(name!, value !== undefined);
  }
  const operands: string[] = [];
  const options: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("-")) {
      operands.push(arg);
      continue;
    }
    const equals = arg.indexOf("=");
    const name = equals === -1 ? arg : arg.slice(0, equals);
    const withValue = takesValue.get(name);
    if (withValue === undefined || !name.startsWith("--")) return undefined;
    const key = optionKey(name.slice(2));
    if (!withValue) {
      if (equals !== -1) return undefined;
      options[key] = true;
    } else if (equals !== -1) options[key] = arg.slice(equals + 1);
    else {
      const value = argv[++i];
      if (value === undefined || value.startsWith("-")) return undefined;
      options[key] = value;
    }
  }
  return operands.length > 0 ? { operands, options } : undefined;
}
