import fs from "node:fs/promises";
import { metricEntry } from "../storage/metric-catalogue.js";
import { parseProcStat } from "./cpu.js";
import { makeSample, type Sensor } from "./sensor.js";

export interface LoadAverage {
  load1: number;
  load5: number;
  load15: number;
}

/** The first three fields of /proc/loadavg, as uptime prints them. */
export function parseLoadAvg(text: string): LoadAverage {
  const [load1, load5, load15] = text.trim().split(/\s+/).map(Number);
  if (![load1, load5, load15].every((v) => Number.isFinite(v)))
    throw new Error(`/proc/loadavg: unexpected "${text.trim()}"`);
  return { load1: load1!, load5: load5!, load15: load15! };
}

/** Load per CPU, the figure comparable across machines: load1 ÷ online cores, two decimals. */
export function loadPerCpu(load: LoadAverage, cores: number): number {
  return Math.round((load.load1 / Math.max(1, cores)) * 100) / 100;
}

const average = (minutes: 1 | 5 | 15, order: number) =>
  metricEntry({
    metric_type: `Load${minutes}`,
    title: `Load (${minutes} min)`,
    kind: "ratio",
    help: `${minutes}-minute load average (runnable and uninterruptible tasks), latest sample.`,
    labels: [],
    prometheus: { name: `ams_load${minutes}`, type: "gauge" },
    chart: { order, floor: 0 },
  });

export const load: Sensor = {
  name: "load",
  description: "Load averages (1, 5, 15 min, as uptime shows them) and 1-minute load per CPU",
  metrics: [
    metricEntry({
      metric_type: "LoadPerCPU",
      title: "Load per CPU",
      kind: "ratio",
      help: "1-minute load average divided by the number of CPUs, latest sample.",
      labels: [],
      prometheus: { name: "ams_load1_per_cpu", type: "gauge" },
      chart: { order: 20, floor: 0 },
      rules: { load_high: { op: ">", threshold: 2, clear: 1.5, for: "15m", severity: "warning" } },
    }),
    average(1, 21),
    average(5, 22),
    average(15, 23),
  ],
  async collect(ctx) {
    const [loadavg, stat] = await Promise.all([
      fs.readFile("/proc/loadavg", "utf8"),
      fs.readFile("/proc/stat", "utf8"),
    ]);
    const figures = parseLoadAvg(loadavg);
    const { cores } = parseProcStat(stat);
    return [
      makeSample(ctx, "LoadPerCPU", loadPerCpu(figures, cores), "", { details: { cores } }),
      makeSample(ctx, "Load1", figures.load1, ""),
      makeSample(ctx, "Load5", figures.load5, ""),
      makeSample(ctx, "Load15", figures.load15, ""),
    ];
  },
};
