import fs from "node:fs/promises";
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

export const ram: Sensor = {
  name: "ram",
  description: "RAM used % (total − available, as free shows it), swap used %",
  async collect(ctx) {
    const info = parseMemInfo(await fs.readFile("/proc/meminfo", "utf8"));
    const swapUsed =
      info.swapTotalBytes > 0 ? round1(((info.swapTotalBytes - info.swapFreeBytes) / info.swapTotalBytes) * 100) : 0;
    return [
      makeSample(ctx, "RAM", ramUsedPercent(info), "%", {
        details: { total_bytes: info.totalBytes, available_bytes: info.availableBytes, swap_used_percent: swapUsed },
      }),
    ];
  },
};
