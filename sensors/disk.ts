import type { StatsFs } from "node:fs";
import fs from "node:fs/promises";
import { metricEntry } from "../storage/metric-catalogue.js";
import { makeSample, PartialFailure, type Sensor, type SensorContext } from "./sensor.js";

export interface Mount {
  device: string;
  mountPoint: string;
  fsType: string;
}

// Kernel and memory filesystems: not disks an admin watches (df -x would drop them).
const PSEUDO_FS = new Set([
  "proc",
  "sysfs",
  "tmpfs",
  "devtmpfs",
  "devpts",
  "cgroup",
  "cgroup2",
  "squashfs",
  "mqueue",
  "debugfs",
  "tracefs",
  "securityfs",
  "pstore",
  "bpf",
  "autofs",
  "configfs",
  "fusectl",
  "hugetlbfs",
  "binfmt_misc",
  "nsfs",
  "ramfs",
  "rpc_pipefs",
  "nfsd",
  "efivarfs",
  "selinuxfs",
  "fuse.gvfsd-fuse",
  "fuse.portal",
  "fuse.lxcfs",
]);

/** Octal escapes of /proc mount tables (a space is \040). */
const unescapeMount = (text: string) =>
  text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));

/** Of two mounts of one device, the one df would list: "/", else the mount of the device's root
 * rather than a bind mount of a subfolder, else the shorter mount point. */
function preferred(a: Mount & { root: string }, b: Mount & { root: string }): boolean {
  if (a.mountPoint === "/" || b.mountPoint === "/") return a.mountPoint === "/";
  return a.root.length !== b.root.length ? a.root.length < b.root.length : a.mountPoint.length < b.mountPoint.length;
}

/** The real filesystems of /proc/self/mountinfo, one per device as df lists them; "/" is always kept. */
export function parseMountInfo(text: string): Mount[] {
  const byDevice = new Map<string, Mount & { root: string }>();
  for (const line of text.split("\n")) {
    const [left, right] = line.split(" - ");
    if (!left || !right) continue;
    const [, , devNumber, root, mountPoint] = left.split(" ");
    const [fsType, source] = right.split(" ");
    if (!devNumber || !root || !mountPoint || !fsType) continue;
    const mount = {
      device: unescapeMount(source ?? ""),
      mountPoint: unescapeMount(mountPoint),
      fsType,
      root: unescapeMount(root),
    };
    if (PSEUDO_FS.has(fsType) && mount.mountPoint !== "/") continue;
    const known = byDevice.get(devNumber);
    if (!known || preferred(mount, known)) byDevice.set(devNumber, mount);
  }
  return [...byDevice.values()].map(({ device, mountPoint, fsType }) => ({ device, mountPoint, fsType }));
}

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
export function fsUsage(stats: {
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
}): FsUsage | undefined {
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

/** statfs bounded in time: a dead NFS server can make it hang forever. */
export function statfsWithin(
  mountPoint: string,
  seconds: number,
  statfs: (path: string) => Promise<StatsFs> = fs.statfs,
) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`statfs timed out after ${seconds} s`)), seconds * 1000);
    timer.unref();
  });
  return Promise.race([statfs(mountPoint), timeout]).finally(() => clearTimeout(timer));
}

export interface MountUsage {
  mount: Mount;
  usage: FsUsage;
}

/**
 * The real mounts (less sensors.disk.exclude_mounts), each statfs'd within sensors.disk.timeout:
 * what answered, and "mount: reason" for what did not. Shared by disk and inodes, so both see the
 * same mounts and neither hangs on a dead one.
 */
export async function measureMounts(ctx: SensorContext): Promise<{ measured: MountUsage[]; failures: string[] }> {
  const { timeout, exclude_mounts } = ctx.config.sensors.disk;
  const mounts = parseMountInfo(await fs.readFile("/proc/self/mountinfo", "utf8")).filter(
    (m) => !exclude_mounts.includes(m.mountPoint),
  );
  const results = await Promise.allSettled(mounts.map((m) => statfsWithin(m.mountPoint, timeout)));
  const measured: MountUsage[] = [];
  const failures: string[] = [];
  for (const [i, result] of results.entries()) {
    const mount = mounts[i]!;
    if (result.status === "rejected") failures.push(`${mount.mountPoint}: ${(result.reason as Error).message}`);
    else {
      const usage = fsUsage(result.value);
      if (usage) measured.push({ mount, usage });
    }
  }
  return { measured, failures };
}

export const disk: Sensor = {
  name: "disk",
  description: "Disk used % per real mounted filesystem (df's Use%), inode use",
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
  ],
  async collect(ctx) {
    const { measured, failures } = await measureMounts(ctx);
    const samples = measured.map(({ mount, usage }) =>
      makeSample(ctx, "Disk", usage.usedPercent, "%", {
        labels: { mount: mount.mountPoint },
        details: {
          device: mount.device,
          fs_type: mount.fsType,
          size_bytes: usage.sizeBytes,
          used_bytes: usage.usedBytes,
          available_bytes: usage.availableBytes,
          ...(usage.inodesUsedPercent !== undefined ? { inodes_used_percent: usage.inodesUsedPercent } : {}),
        },
      }),
    );
    // The mounts that answered are still stored; the failed ones are reported so the run exits 1.
    if (failures.length > 0) throw new PartialFailure(samples, `disk: ${failures.join("; ")}`);
    return samples;
  },
};
