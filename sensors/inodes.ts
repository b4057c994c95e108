import { metricEntry } from "../storage/metric-catalogue.js";
import { fsUsage } from "./disk.js";
import { watchedMountStats } from "./mount-stats.js";
import { makeSample, PartialFailure, type Sensor } from "./sensor.js";

export const inodes: Sensor = {
  name: "inodes",
  description: "Inodes used % per real mounted filesystem (df -i's IUse%), the mounts and timeout of disk",
  metrics: [
    metricEntry({
      metric_type: "Inodes",
      title: "Inodes",
      kind: "percent",
      help: "Inodes used percent per mount (df -i's IUse%), latest sample.",
      labels: ["mount"],
      prometheus: { name: "ams_inodes_used_percent", type: "gauge" },
      chart: { order: 41, floor: 0, ceiling: 100 },
      rules: { inodes_warning: { op: ">=", threshold: 90, clear: 88, severity: "warning" } },
    }),
  ],
  async collect(ctx) {
    const samples = [];
    const failures = [];
    // The statfs figures disk takes too (one measurement per run); a stuck mount is skipped here
    // and reported by disk as disk_status.
    for (const result of await watchedMountStats(ctx)) {
      const { mount } = result;
      if (result.status === "stuck") continue;
      if (result.status === "failed") {
        failures.push(`${mount.mountPoint}: ${result.error}`);
        continue;
      }
      // A filesystem without inodes (btrfs reports none, df -i prints "-") has nothing to say.
      const percent = fsUsage(result.stats)?.inodesUsedPercent;
      if (percent === undefined) continue;
      samples.push(
        makeSample(ctx, "Inodes", percent, "%", {
          labels: { mount: mount.mountPoint },
          details: { device: mount.device, fs_type: mount.fsType },
        }),
      );
    }
    if (failures.length > 0) throw new PartialFailure(samples, `inodes: ${failures.join("; ")}`);
    return samples;
  },
};
