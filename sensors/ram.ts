import fs from "node:fs/promises";
import { metricEntry } from "../storage/metric-catalogue.js";
import { makeSample, round1, type Sensor } from "./sensor.js";

export interface MemInfo {
  totalBytes: number;
  availableBytes: number;
  swapTotalBytes: number;
  swapFreeBytes: number;
}

/** /proc/meminfo's kB figures, as bytes. */
export function parseMemInfo(text: string): MemInfo {
  const kb = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = /^(\w+):\s+(\d+)/.exec(line);
    if (m) kb.set(m[1]!, Number(m[2]) * 1024);
  }
  const total = kb.get("MemTotal");
  const available = kb.get("MemAvailable");
  if (!total || available === undefined) throw new Error("/proc/meminfo: MemTotal or MemAvailable missing");
  return {
    totalBytes: total,
    availableBytes: available,
    swapTotalBytes: kb.get("SwapTotal") ?? 0,
    swapFreeBytes: kb.get("SwapFree") ?? 0,
  };
}

/** Used % as `free` reckons it: what is not available, so page cache that can be reclaimed is not "used". */
export function ramUsedPercent(info: MemInfo): number {
  return round1(((info.totalBytes - info.availableBytes) / info.totalBytes) * 100);
}

/** Swap used % as `free` shows it (total − free); 0 with no swap at all. */
export function swapUsedPercent(info: MemInfo): number {
  return info.swapTotalBytes > 0 ? round1(((info.swapTotalBytes - info.swapFreeBytes) / info.swapTotalBytes) * 100) : 0;
}

export const ram: Sensor = {
  name: "ram",
  description: "RAM used % (total − available, as free shows it), swap used %",
  metrics: [
    metricEntry({
      metric_type: "RAM",
      title: "RAM",
      kind: "percent",
      help: "Memory used percent (total minus available), latest sample.",
      labels: [],
      prometheus: { name: "ams_ram_percent", type: "gauge" },
      chart: { order: 30, floor: 0, ceiling: 100 },
      rules: { ram_high: { op: ">", threshold: 90, clear: 85, for: "5m", severity: "warning" } },
    }),
    metricEntry({
      metric_type: "Swap",
      title: "Swap",
      kind: "percent",
      help: "Swap used percent (0 when there is no swap), latest sample.",
      labels: [],
      prometheus: { name: "ams_swap_used_percent", type: "gauge" },
      chart: { order: 31, floor: 0, ceiling: 100 },
      rules: { swap_high: { op: ">", threshold: 80, clear: 75, for: "15m", severity: "warning" } },
    }),
  ],
  async collect(ctx) {
    const info = parseMemInfo(await fs.readFile("/proc/meminfo", "utf8"));
    const swap =
      info.swapTotalBytes > 0
        ? { total_bytes: info.swapTotalBytes, free_bytes: info.swapFreeBytes }
        : { no_swap: true };
    return [
      makeSample(ctx, "RAM", ramUsedPercent(info), "%", {
        details: { total_bytes: info.totalBytes, available_bytes: info.availableBytes },
      }),
      makeSample(ctx, "Swap", swapUsedPercent(info), "%", { details: swap }),
    ];
  },
};
