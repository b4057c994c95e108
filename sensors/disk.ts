import { DISK_STATUS, DISK_STATUS_METRIC } from "../storage/disk-status.js";
import { metricEntry } from "../storage/metric-catalogue.js";
import { watchedMountStats, type FsStats } from "./mount-stats.js";
import { makeSample, PartialFailure, type Sensor } from "./sensor.js";

export interface FsUsage {
  sizeBytes: number;
  usedBytes: number;
  availableBytes: number;
  usedPercent: number;
  inodesUsedPercent?: number;
}

/** Ceiling of a / b as a percentage, df's rounding. */
const ceilPercent = (part: number, whole: number) => Math.ceil((part * 100) / whole);

/**
 * df's Use%: used / (used + available to non-root), rounded up. Size includes the reserved
 * blocks, so used / size would understate how close the disk is to full. Undefined for an
 * empty filesystem (df prints "-").
 */
export function fsUsage(stats: FsStats): FsUsage | undefined {
  const used = stats.blocks - stats.bfree;
  if (used + stats.bavail <= 0) return undefined;
  const inodesUsed = stats.files - stats.ffree;
  return {
    sizeBytes: stats.blocks * stats.bsize,
    usedBytes: used * stats.bsize,
    availableBytes: stats.bavail * stats.bsize,
    usedPercent: ceilPercent(used, used + stats.bavail),
    ...(stats.files > 0 ? { inodesUsedPercent: ceilPercent(inodesUsed, stats.files) } : {}),
  };
}

export const disk: Sensor = {
  name: "disk",
  description:
    "Disk used % per real mounted filesystem (df's Use%), inode use; disk_status of mounts that hang or fail",
  metrics: [
    metricEntry({
      metric_type: "Disk",
      title: "Disk",
      kind: "percent",
      help: "Disk space used percent per mount (df's Use%), latest sample.",
      labels: ["mount"],
      prometheus: { name: "ams_disk_used_percent", type: "gauge" },
      chart: { order: 40, floor: 0, ceiling: 100 },
      rules: {
        disk_warning: { op: ">=", threshold: 90, clear: 88, severity: "warning" },
        disk_critical: { op: ">=", threshold: 98, clear: 96, severity: "critical" },
      },
    }),
    metricEntry({
      metric_type: DISK_STATUS_METRIC,
      title: "Disk status",
      kind: "state",
      help: "State of a mount that hung or failed: 2 stuck, 3 failed, 0 answering again; latest sample.",
      labels: ["mount"],
      prometheus: { name: "ams_disk_status", type: "gauge" },
      chart: { order: 42, floor: 0, ceiling: DISK_STATUS.failed },
      // 2 a mount that hangs (dead network filesystem), 3 one that cannot be read.
      rules: { disk_unreadable: { op: ">=", threshold: DISK_STATUS.stuck, severity: "critical" } },
    }),
  ],
  async collect(ctx) {
    const samples = [];
    const failures = [];
    for (const result of await watchedMountStats(ctx)) {
      const { mount } = result;
      const where = { device: mount.device, fs_type: mount.fsType };
      // A status record only while a mount is in trouble, and once when it answers again (so an alert on it resolves).
      if (result.status !== "ok" || result.recovered) {
        samples.push(
          makeSample(ctx, DISK_STATUS_METRIC, DISK_STATUS[result.status], "state", {
            labels: { mount: mount.mountPoint },
            details: {
              status: result.status,
              ...where,
              ...(result.status === "stuck" ? { since: result.since, probe_pid: result.probePid } : {}),
              ...(result.status === "failed" ? { error: result.error } : {}),
            },
          }),
        );
      }
      if (result.status === "stuck") {
        ctx.log.warn(
          `disk: ${mount.mountPoint} does not answer statfs since ${result.since} (stuck process ${result.probePid}): not measured until it answers`,
        );
        continue;
      }
      if (result.status === "failed") {
        failures.push(`${mount.mountPoint}: ${result.error}`);
        continue;
      }
      const usage = fsUsage(result.stats);
      if (!usage) continue;
      samples.push(
        makeSample(ctx, "Disk", usage.usedPercent, "%", {
          labels: { mount: mount.mountPoint },
          details: {
            ...where,
            size_bytes: usage.sizeBytes,
            used_bytes: usage.usedBytes,
            available_bytes: usage.availableBytes,
            ...(usage.inodesUsedPercent !== undefined ? { inodes_used_percent: usage.inodesUsedPercent } : {}),
          },
        }),
      );
    }
    // The mounts that answered are still stored; a mount that failed outright makes the run exit 1.
    if (failures.length > 0) throw new PartialFailure(samples, `disk: ${failures.join("; ")}`);
    return samples;
  },
};
