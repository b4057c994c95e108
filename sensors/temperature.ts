import fs from "node:fs/promises";
import path from "node:path";
import { readState, writeState } from "../lib/state.js";
import { metricEntry } from "../storage/metric-catalogue.js";
import { makeSample, PartialFailure, round1, type Sensor } from "./sensor.js";

export interface Reading {
  /** The chip (hwmon `name`) or thermal zone `type`. */
  chip: string;
  /** The sensor on it: its label, else its file ("temp2"). */
  sensor: string;
  celsius: number;
}

/** A sysfs temperature: millidegrees Celsius; undefined for a sensor that cannot be read or is absurd. */
export function millidegrees(text: string): number | undefined {
  const value = Number(text.trim()) / 1000;
  return text.trim() !== "" && Number.isFinite(value) && value > -100 && value < 300 ? value : undefined;
}

/** The hottest reading of each chip, in chip order; chips of the same name are told apart by their folder. */
export function hottestPerChip(readings: readonly Reading[]): Reading[] {
  const hottest = new Map<string, Reading>();
  for (const r of readings) {
    const known = hottest.get(r.chip);
    if (!known || r.celsius > known.celsius) hottest.set(r.chip, r);
  }
  return [...hottest.values()].sort((a, b) => a.chip.localeCompare(b.chip));
}

const readText = (file: string) => fs.readFile(file, "utf8").catch(() => undefined);
const listDir = (dir: string) => fs.readdir(dir).catch(() => [] as string[]);

/** Every temp*_input of <root>/class/hwmon/hwmon*, as `sensors` lists them. */
export async function readHwmon(sysfs: string): Promise<Reading[]> {
  const base = path.join(sysfs, "class", "hwmon");
  const dirs = (await listDir(base)).filter((d) => d.startsWith("hwmon")).sort();
  const names = await Promise.all(dirs.map(async (d) => (await readText(path.join(base, d, "name")))?.trim() || d));
  const readings: Reading[] = [];
  for (const [i, dir] of dirs.entries()) {
    const name = names[i]!;
    const chip = names.filter((n) => n === name).length > 1 ? `${name} (${dir})` : name;
    for (const file of (await listDir(path.join(base, dir))).filter((f) => /^temp\d+_input$/.test(f))) {
      const celsius = millidegrees((await readText(path.join(base, dir, file))) ?? "");
      if (celsius === undefined) continue;
      const label = (await readText(path.join(base, dir, file.replace("_input", "_label"))))?.trim();
      readings.push({ chip, sensor: label || file.replace("_input", ""), celsius });
    }
  }
  return readings;
}

/** <root>/class/thermal/thermal_zone*: the kernel's zones, where no hwmon driver reports. */
export async function readThermalZones(sysfs: string): Promise<Reading[]> {
  const base = path.join(sysfs, "class", "thermal");
  const readings: Reading[] = [];
  for (const zone of (await listDir(base)).filter((d) => d.startsWith("thermal_zone")).sort()) {
    const celsius = millidegrees((await readText(path.join(base, zone, "temp"))) ?? "");
    if (celsius === undefined) continue;
    readings.push({ chip: (await readText(path.join(base, zone, "type")))?.trim() || zone, sensor: zone, celsius });
  }
  return readings;
}

/** hwmon's sensors, or the thermal zones when hwmon has none. */
export async function readTemperatures(sysfs: string): Promise<Reading[]> {
  const hwmon = await readHwmon(sysfs);
  return hottestPerChip(hwmon.length > 0 ? hwmon : await readThermalZones(sysfs));
}

interface SavedPresence {
  /** True once "no sensors" has been logged; reset when sensors appear. */
  none_logged: boolean;
}

/** storage/state/temperature.json as this sensor writes it. */
const presenceProblem = (value: unknown) =>
  typeof (value as Partial<SavedPresence> | null)?.none_logged === "boolean"
    ? undefined
    : "none_logged: expected true or false";

const STATE = "temperature";

export const temperature: Sensor = {
  name: "temperature",
  description: "Hottest sensor per chip in °C (/sys/class/hwmon, else thermal zones); nothing on machines without",
  metrics: [
    metricEntry({
      metric_type: "Temperature",
      title: "Temperature",
      kind: "celsius",
      help: "Hottest temperature sensor per chip in degrees Celsius, latest sample.",
      labels: ["chip"],
      prometheus: { name: "ams_temperature_celsius", type: "gauge" },
      chart: { order: 70, floor: 0 },
      rules: { temperature_high: { op: ">", threshold: 85, clear: 80, for: "5m", severity: "warning" } },
    }),
  ],
  async collect(ctx) {
    // Another sysfs tree only for tests: this kind of machine has no sensors of its own.
    const readings = await readTemperatures(process.env.AMS_SYSFS_ROOT || "/sys");
    let saved: SavedPresence | undefined;
    let reset: string | undefined;
    try {
      saved = await readState<SavedPresence>(ctx.paths.stateDir, STATE, presenceProblem, (m) => (reset = m));
    } catch {
      saved = undefined;
    }
    const noneLogged = readings.length === 0;
    if (noneLogged && !saved?.none_logged)
      ctx.log.info("temperature: no hwmon or thermal zone sensor on this machine, nothing to store");
    if ((saved?.none_logged ?? false) !== noneLogged)
      await writeState(ctx.paths.stateDir, STATE, { none_logged: noneLogged } satisfies SavedPresence);
    const samples = readings.map((r) =>
      makeSample(ctx, "Temperature", round1(r.celsius), "°C", {
        labels: { chip: r.chip },
        details: { sensor: r.sensor },
      }),
    );
    if (reset) throw new PartialFailure(samples, reset);
    return samples;
  },
};
