import { metricEntry } from "../storage/metric-catalogue.js";
import { measureMounts } from "./disk.js";
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
    const { measured, failures } = await measureMounts(ctx);
    // A filesystem without inodes (btrfs reports none, df -i prints "-") has nothing to say.
    const samples = measured.flatMap(({ mount, usage }) =>
      usage.inodesUsedPercent === undefined
        ? []
        : [
            makeSample(ctx, "Inodes", usage.inodesUsedPercent, "%", {
              labels: { mount: mount.mountPoint },
              details: { device: mount.device, fs_type: mount.fsType },
            }),
          ],
    );
    if (failures.length > 0) throw new PartialFailure(samples, `inodes: ${failures.join("; ")}`);
    return samples;
  },
};
