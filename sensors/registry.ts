import path from "node:path";
import type { Job } from "../config/job.js";
import { cert } from "./cert.js";
import { cpu } from "./cpu.js";
import { disk } from "./disk.js";
import { diskio } from "./diskio.js";
import { inodes } from "./inodes.js";
import { load } from "./load.js";
import { net } from "./net.js";
import { processes } from "./processes.js";
import { ram } from "./ram.js";
import type { Sensor } from "./sensor.js";
import { temperature } from "./temperature.js";
import { uptime } from "./uptime.js";
import { users } from "./users.js";

/** The built-in sensors, in the order `ams-sensor all` runs and prints them. */
export const builtinSensors: readonly Sensor[] = [
  cpu,
  load,
  ram,
  disk,
  inodes,
  diskio,
  net,
  temperature,
  uptime,
  processes,
  users,
  cert,
];

/** Words of the command line that select groups of sensors; no plugin may take them. */
export const GROUPS = ["all", "plugins"] as const;

export interface Selection {
  sensors: Sensor[];
  /** Names that match no sensor. */
  unknown: string[];
  /** Every name that would have been accepted, built-ins first, then the plugins found. */
  valid: string[];
}

/** The plugins folder of a data home (sensors.plugins.dir, relative to the home unless absolute). */
const pluginsDir = (job: Job) => path.resolve(job.paths.home, job.config.sensors.plugins.dir);

/** The plugins folder's sensors; the runner (execa) is loaded only then, to keep built-in runs quick to start. */
async function loadPlugins(job: Job, reservedNames: string[]): Promise<Sensor[]> {
  const { findPlugins, pluginSensors } = await import("./plugins.js");
  return pluginSensors(await findPlugins(pluginsDir(job), reservedNames, job.log), job.config.sensors.plugins);
}

/** The names of the plugins ams-sensor would run (alert rules may watch their metrics). */
export async function pluginNames(job: Job): Promise<string[]> {
  return (await loadPlugins(job, reservedNames())).map((s) => s.name);
}

// A plugin named like a built-in metric type ("Swap") would mix its records into that metric's series.
const reservedNames = () => [
  ...builtinSensors.map((s) => s.name),
  ...builtinSensors.flatMap((s) => s.metrics.map((m) => m.metric_type)),
  ...GROUPS,
];

/**
 * The sensors that command-line names select: built-in names, plugin names (files of the plugins
 * folder), "plugins" for every plugin, "all" for everything. The folder is only read when a name
 * is not a built-in one.
 */
export async function selectSensors(names: readonly string[], job: Job): Promise<Selection> {
  const builtinNames = builtinSensors.map((s) => s.name);
  const needsPlugins = names.some((n) => !builtinNames.includes(n));
  const plugins = needsPlugins ? await loadPlugins(job, reservedNames()) : [];
  const everything = [...builtinSensors, ...plugins];
  const wanted = new Set<Sensor>();
  const unknown: string[] = [];
  for (const name of names) {
    const matches =
      name === "all" ? everything : name === "plugins" ? plugins : everything.filter((s) => s.name === name);
    if (matches.length === 0 && name !== "plugins") unknown.push(name);
    for (const sensor of matches) wanted.add(sensor);
  }
  return { sensors: everything.filter((s) => wanted.has(s)), unknown, valid: everything.map((s) => s.name) };
}
