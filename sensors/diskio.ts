import fs from "node:fs/promises";
import { metricEntry } from "../storage/metric-catalogue.js";
import { countersOverInterval } from "./counter-rates.js";
import { makeSample, PartialFailure, round1, type Sensor } from "./sensor.js";

export interface DiskCounters {
  name: string;
  readBytes: number;
  writtenBytes: number;
  /** Milliseconds the device had I/O in flight: the base of iostat's %util. */
  busyMs: number;
}

// /proc/diskstats counts 512-byte sectors whatever the device's own sector size.
const SECTOR_BYTES = 512;

/** /proc/diskstats: `major minor name reads merged sectors ms writes merged sectors ms in-flight io_ms …`. */
export function parseDiskstats(text: string): DiskCounters[] {
  const disks: DiskCounters[] = [];
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length < 14) continue;
    const n = f.map(Number);
    disks.push({ name: f[2]!, readBytes: n[5]! * SECTOR_BYTES, writtenBytes: n[9]! * SECTOR_BYTES, busyMs: n[12]! });
  }
  return disks;
}

/**
 * Whole disks: the devices of /sys/block (partitions are not there), but not loop or RAM disks,
 * whose I/O is that of a file or of memory.
 */
export function wholeDisk(name: string, blockDevices: readonly string[]): boolean {
  return blockDevices.includes(name) && !/^(loop|ram)\d/.test(name);
}

const STATE = "diskio";

const throughput = (metric_type: string, done: "read" | "written", order: number) =>
  metricEntry({
    metric_type,
    title: `Disk ${done}`,
    kind: "bytes_per_second",
    help: `Bytes ${done} per second per disk since the previous sample.`,
    labels: ["device"],
    prometheus: { name: `ams_disk_${done}_bytes_per_second`, type: "gauge" },
    chart: { order, floor: 0 },
  });

export const diskio: Sensor = {
  name: "diskio",
  description: "Per whole disk: bytes read and written per second, % of time busy (iostat -x's %util)",
  metrics: [
    throughput("DiskRead", "read", 50),
    throughput("DiskWrite", "written", 51),
    metricEntry({
      metric_type: "DiskBusy",
      title: "Disk busy",
      kind: "percent",
      help: "Percent of time the disk had I/O in flight (iostat's %util) since the previous sample.",
      labels: ["device"],
      prometheus: { name: "ams_disk_busy_percent", type: "gauge" },
      chart: { order: 52, floor: 0, ceiling: 100 },
    }),
  ],
  async collect(ctx) {
    const blockDevices = await fs.readdir("/sys/block");
    const { rates, seconds, reset } = await countersOverInterval(ctx, STATE, async () =>
      Object.fromEntries(
        parseDiskstats(await fs.readFile("/proc/diskstats", "utf8"))
          .filter((d) => wholeDisk(d.name, blockDevices))
          .map((d) => [d.name, [d.readBytes, d.writtenBytes, d.busyMs]]),
      ),
    );
    const details = { interval_seconds: round1(seconds) };
    const samples = [...rates].flatMap(([name, [read, written, busyMsPerSecond]]) => {
      const labels = { device: name };
      return [
        makeSample(ctx, "DiskRead", Math.round(read!), "B/s", { labels, details }),
        makeSample(ctx, "DiskWrite", Math.round(written!), "B/s", { labels, details }),
        // ms busy per second / 10 = %; capped, as iostat does, for counters that run ahead of the clock.
        makeSample(ctx, "DiskBusy", round1(Math.min(100, busyMsPerSecond! / 10)), "%", { labels, details }),
      ];
    });
    // Measured over a fresh baseline and stored, but this run fails so that the reset is seen once.
    if (reset) throw new PartialFailure(samples, reset);
    return samples;
  },
};
