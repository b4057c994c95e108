import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { writeFileAtomic } from "../lib/atomic-write.js";
import { readFileIfExists } from "../lib/if-exists.js";
import { amsProgram, runProgram } from "../lib/cli.js";
import { UsageError } from "../lib/usage-error.js";
import { amsPaths, installDir, resolveHome } from "../lib/paths.js";
import { loadConfig } from "../config/ams-config.js";
import { renderBlock, replaceBlock, scheduleOptions, type BlockOptions } from "./crontab-block.js";

/** Where the crontab lives: the current user's (through `crontab`), or a plain file. */
interface CrontabTarget {
  describe: string;
  read(): Promise<string>;
  write(text: string): Promise<void>;
}

function userCrontab(): CrontabTarget {
  return {
    describe: `${os.userInfo().username}'s crontab`,
    async read() {
      const r = await execa("crontab", ["-l"], { reject: false, stripFinalNewline: false });
      if (r.exitCode === 0) return r.stdout;
      if (/no crontab for/i.test(r.stderr)) return "";
      throw new Error(`crontab -l failed (exit ${r.exitCode}): ${r.stderr.trim()}`);
    },
    async write(text) {
      const r = await execa("crontab", ["-"], { input: text, reject: false });
      if (r.exitCode !== 0) throw new Error(`crontab - failed (exit ${r.exitCode}): ${r.stderr.trim()}`);
    },
  };
}

function fileCrontab(file: string): CrontabTarget {
  return {
    describe: file,
    read: async () => (await readFileIfExists(file)) ?? "",
    // Replaced whole, so that cron never reads half a file (in /etc/cron.d it ignores the ".tmp" name meanwhile).
    write: async (text) => {
      await writeFileAtomic(file, text);
    },
  };
}

interface Options {
  home?: string;
  print?: boolean;
  uninstall?: boolean;
  crontabFile?: string;
  user?: string;
}

/** Files cron reads in the system form, with a user field on every line. */
const isSystemCrontab = (file: string) => file === "/etc/crontab" || path.dirname(file) === "/etc/cron.d";

const program = amsProgram(
  "install-crontab",
  "Install AMS's jobs (crontab.example) into the current user's crontab, inside a marked block.",
)
  .option("--print", "show the block that would be installed, change nothing")
  .option("--uninstall", "remove the AMS block, leave every other line alone")
  .option("--crontab-file <file>", "edit this file instead of the user's crontab (e.g. /etc/cron.d/ams, with --user)")
  .option("--user <name>", "write system crontab lines that run as this user (for /etc/crontab and /etc/cron.d/)")
  .action(async (opts: Options) => {
    if (opts.print && opts.uninstall) throw new UsageError("--print and --uninstall do not go together");
    if (opts.user !== undefined && !opts.crontabFile && !opts.print)
      throw new UsageError("--user is for a system crontab: give it with --crontab-file");
    if (
      opts.crontabFile &&
      !opts.uninstall &&
      opts.user === undefined &&
      isSystemCrontab(path.resolve(opts.crontabFile))
    ) {
      throw new UsageError(
        `${opts.crontabFile} is a system crontab: its lines name the user to run as; add --user NAME`,
      );
    }
    const home = resolveHome(opts.home);
    const template = await fs.readFile(path.join(installDir, "crontab.example"), "utf8");
    const paths = amsPaths(home);
    // Jobs that would only start node for nothing are left out: ams-fetch-remote without remotes
    // (30 starts an hour), ams-graphs while ams-web draws the pages when they are requested.
    const leftOut: BlockOptions = opts.uninstall ? {} : scheduleOptions(loadConfig(paths.config));
    const block = renderBlock(
      template,
      { node: process.execPath, installDir: installDir.replace(/\/$/, ""), home },
      { systemUser: opts.user, ...leftOut },
    );
    // With --print, stdout is the block alone.
    const say = (line: string) => (opts.print ? process.stderr : process.stdout).write(`${line}\n`);
    if (leftOut.withoutRemotePulls)
      say(
        `no remote in ${paths.config}: ams-fetch-remote left out of the schedule (run the installer again after adding remotes)`,
      );
    if (leftOut.withoutPageDrawing)
      say("ams-web draws the pages when they are requested (web.draw_on_request): ams-graphs left out of the schedule");
    if (opts.print) {
      process.stdout.write(`${block}\n`);
      return;
    }
    const target = opts.crontabFile ? fileCrontab(path.resolve(opts.crontabFile)) : userCrontab();
    const before = await target.read();
    const after = replaceBlock(before, opts.uninstall ? undefined : block);
    if (!opts.uninstall) {
      // The jobs' stderr redirect opens logs/cron.log: without the folder, sh would not start them.
      await fs.mkdir(paths.logsDir, { recursive: true });
    }
    if (after === before) {
      process.stdout.write(
        `${target.describe}: ${opts.uninstall ? "no AMS block" : "AMS block already up to date"}, nothing changed\n`,
      );
      return;
    }
    await target.write(after);
    process.stdout.write(
      `${target.describe}: AMS block ${opts.uninstall ? "removed" : `installed for AMS_HOME=${home}`}\n`,
    );
  });

void runProgram(program);
