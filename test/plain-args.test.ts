import { Command } from "commander";
import { amsProgram } from "../lib/cli.js";
import { plainArgs, type OptionSpec } from "../lib/plain-args.js";

const OPTIONS: OptionSpec[] = [
  { flags: "--json", description: "a switch" },
  { flags: "--dry-run", description: "a switch of two words" },
  { flags: "--max-age <days>", description: "an option with a value" },
];
const SPECS: OptionSpec[] = [{ flags: "--home <dir>", description: "" }, ...OPTIONS];

/** What commander makes of `argv` in a program declared from the same options. */
function commanderParse(argv: string[]): { operands: string[]; options: Record<string, unknown> } {
  let parsed: { operands: string[]; options: Record<string, unknown> } | undefined;
  const program: Command = amsProgram("ams-test", "", OPTIONS)
    .argument("<names...>")
    .action((operands: string[], options: Record<string, unknown>) => void (parsed = { operands, options }));
  program.configureOutput({ writeErr: () => {}, writeOut: () => {} });
  program.parse(argv, { from: "user" });
  return parsed!;
}

describe("plainArgs", () => {
  test.each([
    [["cpu"]],
    [["cpu", "ram", "disk"]],
    [["cpu", "--home", "/var/lib/ams"]],
    [["--home", "/var/lib/ams", "cpu", "load"]],
    [["--home=/var/lib/ams", "cpu"]],
    [["--home=", "cpu"]],
    [["cpu", "--json", "--dry-run"]],
    [["cpu", "--json", "--json"]],
    [["cpu", "--home", "/a", "--home", "/b"]],
    [["cpu", "--max-age", "30"]],
    [["cpu", "--max-age=30", "plugin.sh"]],
    [["a=b", "cpu"]],
  ])("parses %j as commander does", (argv) => {
    expect(plainArgs(argv, SPECS)).toEqual(commanderParse(argv));
  });

  test.each([
    [[]],
    [["--home", "/var/lib/ams"]],
    [["--help"]],
    [["cpu", "--help"]],
    [["cpu", "-h"]],
    [["cpu", "--bogus"]],
    [["cpu", "--json=yes"]],
    [["cpu", "--home"]],
    [["cpu", "--home", "--json"]],
    [["cpu", "--", "ram"]],
    [["-x", "cpu"]],
    [["cpu", "-"]],
  ])("leaves %j to commander", (argv) => {
    expect(plainArgs(argv, SPECS)).toBeUndefined();
  });
});
