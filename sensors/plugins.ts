import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { concurrencyLimit } from "../lib/concurrency.js";
import { ifExists } from "../lib/if-exists.js";
import type { Config } from "../config/ams-config.js";
import { NAME_PATTERN } from "../lib/server-name.js";
import type { Logger } from "../lib/log.js";
import { readPluginOutput, type PluginRun } from "./plugin-output.js";
import { makeSample, PartialFailure, type Sensor } from "./sensor.js";

/** The environment every plugin gets: nothing of ours (no secrets, no AMS_HOME), a C locale for "." decimals. */
const PLUGIN_ENV = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", LANG: "C" };
/** Time between the polite SIGTERM at the timeout and the SIGKILL. */
const KILL_GRACE_MS = 1000;

/**
 * As root, each plugin runs as the first process of a PID namespace of its own (util-linux
 * unshare): when it exits or is killed, the kernel kills every process it started, even one that
 * left its process group with setsid. Node cannot make itself a subreaper (prctl) and unprivileged
 * users cannot make PID namespaces (nor can root in a container without CAP_SYS_ADMIN: tried once
 * per run), so otherwise only the plugin's process group is killed.
 */
const UNSHARE = "/usr/bin/unshare";
const UNSHARE_ARGS = ["--pid", "--fork", "--kill-child", "--"];
let pidNamespaces: Promise<boolean> | undefined;
const ownPidNamespace = () =>
  (pidNamespaces ??=
    process.getuid?.() === 0 && existsSync(UNSHARE)
      ? execa(UNSHARE, [...UNSHARE_ARGS, "/bin/true"], { reject: false, stdin: "ignore", timeout: 5000 }).then(
          (r) => r.exitCode === 0,
        )
      : Promise.resolve(false));
/** What unshare prints when it cannot start the plugin itself (exit 126 or 127). */
const UNSHARE_EXEC_FAILURE = /^unshare: (failed to execute .*)$/m;

export interface PluginFile {
  name: string;
  file: string;
}

export type PluginsSettings = Config["sensors"]["plugins"];

/** Why a file of the plugins folder must not run, or undefined when it may. */
async function refusal(file: string): Promise<string | undefined> {
  let stats;
  try {
    stats = await fs.stat(file); // follows a symlink: its target is what runs
  } catch (err) {
    return `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
  }
  if (!stats.isFile()) return "is not a regular file";
  if ((stats.mode & 0o111) === 0) return "is not executable";
  // Whoever can change the file can run anything as the user running AMS.
  if ((stats.mode & 0o022) !== 0) return "is writable by group or others";
  const uid = process.getuid?.();
  if (uid !== undefined && stats.uid !== 0 && stats.uid !== uid) return `belongs to another user (uid ${stats.uid})`;
  return undefined;
}

/**
 * Why a plugin may not take this file name, or undefined when it may: `taken` holds the built-in
 * sensors' names in lower case, `siblings` every file name of the folder.
 */
function nameRefusal(name: string, taken: ReadonlySet<string>, siblings: ReadonlySet<string>): string | undefined {
  if (!NAME_PATTERN.test(name)) return "has a name that is not a valid sensor name (letters, digits, '-', '_', '.')";
  if (taken.has(name.toLowerCase())) return "has the name of a built-in sensor";
  const statusOf = name.endsWith("_status") ? name.slice(0, -"_status".length) : undefined;
  if (statusOf !== undefined && siblings.has(statusOf))
    return `would mix its records with the status of plugin ${statusOf}`;
  return undefined;
}

/**
 * The plugins of the folder, by name. A missing folder means no plugins. Files that may not run
 * (see refusal), whose name is not a valid metric name, or that would take the name of a built-in
 * sensor (`reserved`, compared case-insensitively), are skipped with a warning.
 */
export async function findPlugins(dir: string, reserved: readonly string[], log: Logger): Promise<PluginFile[]> {
  const entries = await ifExists(() => fs.readdir(dir), undefined).catch((err: unknown) => {
    throw new Error(`plugins folder ${dir}: ${(err as Error).message}`, { cause: err });
  });
  if (!entries) return [];
  entries.sort();
  // Whoever can add a file there can add a symlink to any program owned by root, and have it run
  // as the user running AMS (root, often, from cron): a folder others may write to runs nothing.
  const folder = await fs.stat(dir);
  if ((folder.mode & 0o022) !== 0) {
    log.warn(`plugins folder ${dir} skipped: it is writable by group or others (chmod go-w)`);
    return [];
  }
  const taken = new Set(reserved.map((n) => n.toLowerCase()));
  const names = new Set(entries);
  const plugins: PluginFile[] = [];
  for (const name of entries) {
    if (name.startsWith(".")) continue; // hidden files, as run-parts ignores them
    const file = path.join(dir, name);
    const why = nameRefusal(name, taken, names) ?? (await refusal(file));
    if (why) log.warn(`plugin ${file} skipped: it ${why}`);
    else plugins.push({ name, file });
  }
  return plugins;
}

/**
 * Runs one plugin: no shell, a clean environment, output capped, its whole process group (as root:
 * its whole PID namespace) killed at the timeout.
 */
export async function runPlugin(file: string, settings: PluginsSettings): Promise<PluginRun & { stderr: string }> {
  const [command, args] = (await ownPidNamespace()) ? [UNSHARE, [...UNSHARE_ARGS, file]] : [file, []];
  const subprocess = execa(command, args, {
    reject: false,
    extendEnv: false,
    env: PLUGIN_ENV,
    cwd: path.dirname(file),
    stdin: "ignore",
    encoding: "buffer",
    maxBuffer: settings.max_output_bytes,
    // Its own process group, so that children a script started die with it.
    detached: true,
  });
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      if (subprocess.pid !== undefined) process.kill(-subprocess.pid, signal);
    } catch {
      // already gone
    }
  };
  let timedOut = false;
  let forceKill: NodeJS.Timeout | undefined;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup("SIGTERM");
    forceKill = setTimeout(() => {
      killGroup("SIGKILL");
      // A descendant that left the group (setsid, a daemon) may still hold our pipes open: stop
      // reading them, or the run would wait for that process, however long it lives.
      subprocess.stdout.destroy();
      subprocess.stderr.destroy();
    }, KILL_GRACE_MS);
  }, settings.timeout * 1000);
  const result = await subprocess;
  clearTimeout(timer);
  clearTimeout(forceKill);
  killGroup("SIGKILL"); // whatever it left running in the background
  const stderr = Buffer.from(result.stderr).toString("utf8").trim();
  const stdout = result.stdout;
  const notStarted =
    command === UNSHARE && (result.exitCode === 126 || result.exitCode === 127) && UNSHARE_EXEC_FAILURE.exec(stderr);
  if (notStarted) return { stdout, stderr, failure: `could not start: ${notStarted[1]}` };
  // Set by the timer above, which the type checker does not follow.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
  if (timedOut) return { stdout, stderr, failure: `timed out after ${settings.timeout} s: killed` };
  if (result.isMaxBuffer)
    return {
      stdout,
      stderr,
      truncated: true,
      failure: `printed more than ${settings.max_output_bytes} bytes: cut and stopped`,
    };
  if (result.exitCode === undefined) {
    const failure = result.signal
      ? `killed by ${result.signal}`
      : `could not start: ${result.originalMessage ?? result.shortMessage}`;
    return { stdout, stderr, failure };
  }
  return { stdout, stderr, exitCode: result.exitCode };
}

/**
 * A Sensor per plugin, sharing one concurrency gate. A plugin whose run or output cannot be
 * trusted stores an UNKNOWN status record with the reason and fails its sensor, never the others.
 */
export function pluginSensors(plugins: readonly PluginFile[], settings: PluginsSettings): Sensor[] {
  const gate = concurrencyLimit(settings.concurrency);
  return plugins.map(({ name, file }) => ({
    name,
    description: `plugin ${file}`,
    // A plugin's metrics are known from its output: each gets its entry from its perfdata unit (pluginEntry).
    metrics: [],
    async collect(ctx) {
      const run = await gate(() => runPlugin(file, settings));
      const { records, problem } = readPluginOutput(name, run);
      // One time stamp for the whole run, as for a built-in sensor's samples.
      const at = ctx.now();
      const stamped = { ...ctx, now: () => at };
      const samples = records.map(({ metric_type, value, unit, ...extra }) =>
        makeSample(stamped, metric_type, value, unit, extra),
      );
      if (problem) {
        const stderrLine = run.stderr.split("\n")[0];
        throw new PartialFailure(
          samples,
          `plugin ${file}: ${problem}${stderrLine ? ` (stderr: ${stderrLine.slice(0, 200)})` : ""}`,
        );
      }
      return samples;
    },
  }));
}
