import fs from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import type { Config } from "../config/ams-config.js";
import { processIdentity, stillRunning, type ProcessIdentity } from "../lib/process-identity.js";
import { readState, stateFile, writeState, type ResetReport } from "../lib/state.js";
import { withFileLock } from "../storage/locked-file.js";

/**
 * The mounted filesystems the sensors watch, and their statfs figures, measured so that a hung
 * mount (a dead NFS server) cannot hang the job. statfs on such a mount blocks in the kernel and
 * no signal ends it; inside a job it would hold a thread the process cannot exit without. So each
 * mount is measured by a `stat -f` process of its own: at the timeout the job stops waiting, leaves
 * that process behind (detached, unreferenced) and remembers it in storage/state/mount-probes.json.
 * While it still hangs, later runs report the mount stuck without touching it again, so at most one
 * stuck process per mount exists, whatever the number of runs. Once it has ended (the mount
 * answered, or someone killed it), the next run measures the mount again. Like node_exporter's
 * stuck-mount tracking.
 *
 * Every sensor that needs statfs (disk, inodes) takes its figures from watchedMountStats: one
 * measurement per run, however many sensors ask.
 */

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

/** statfs figures of one filesystem; block counts are in units of `bsize` (the fragment size, as df counts). */
export interface FsStats {
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
}

/** A mount that did not answer or could not be read, since when (kept until it answers again). */
export interface MountTrouble {
  status: "stuck" | "failed";
  since: string;
  error?: string;
}

export type MountStat = { mount: Mount } & (
  | { status: "ok"; stats: FsStats; /** It was stuck or failing until this run. */ recovered: boolean }
  | { status: "stuck"; since: string; /** The process still waiting on the mount. */ probePid: number }
  | { status: "failed"; error: string }
);

/** What storage/state/mount-probes.json keeps of one mount point. */
interface MountRecord {
  /** The `stat -f` process last started on the mount, and when. */
  probe?: ProcessIdentity;
  probe_started?: string;
  trouble?: MountTrouble;
}
type MountRecords = Record<string, MountRecord>;

const STATE_NAME = "mount-probes";

const isText = (v: unknown) => typeof v === "string";

/** mount-probes.json as statMounts writes it: by mount point, each record's fields of the right type. */
function mountRecordsProblem(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "expected an object";
  for (const [mountPoint, entry] of Object.entries(value as Record<string, unknown>)) {
    const r = entry as Partial<Record<keyof MountRecord, unknown>> | null;
    if (typeof r !== "object" || r === null) return `${mountPoint}: expected an object`;
    const probe = r.probe as Partial<Record<keyof ProcessIdentity, unknown>> | undefined | null;
    if (probe !== undefined && !(probe && Number.isInteger(probe.pid) && isText(probe.start) && isText(probe.boot)))
      return `${mountPoint}.probe: expected { pid, start, boot }`;
    if (r.probe_started !== undefined && !isText(r.probe_started))
      return `${mountPoint}.probe_started: expected a time`;
    const trouble = r.trouble as Partial<Record<keyof MountTrouble, unknown>> | undefined | null;
    if (
      trouble !== undefined &&
      !(trouble && (trouble.status === "stuck" || trouble.status === "failed") && isText(trouble.since))
    )
      return `${mountPoint}.trouble: expected { status, since, error? }`;
  }
  return undefined;
}

// %S is the fragment size in which %b (blocks), %f (free) and %a (available to non-root) are counted.
const STAT_FORMAT = "%S %b %f %a %c %d";

/** `stat -f -c STAT_FORMAT` output → figures; undefined when it is not six numbers. */
export function parseStatFs(text: string): FsStats | undefined {
  const numbers = text.trim().split(/\s+/).map(Number);
  if (numbers.length !== 6 || numbers.some((n) => !Number.isFinite(n))) return undefined;
  const [bsize, blocks, bfree, bavail, files, ffree] = numbers as [number, number, number, number, number, number];
  return { bsize, blocks, bfree, bavail, files, ffree };
}

type Spawn = typeof import("node:child_process").spawn;

type ProbeResult = { status: "ok"; stats: FsStats } | { status: "failed"; error: string } | { status: "timeout" };

interface Probe {
  identity?: ProcessIdentity;
  result: Promise<ProbeResult>;
}

/** Starts `stat -f` on one mount; at the timeout the process is let go, not waited for (it may never end). */
function startProbe(spawn: Spawn, mountPoint: string, seconds: number): Probe {
  const child = spawn("stat", ["-f", "-c", STAT_FORMAT, "--", mountPoint], {
    detached: true, // its own process group: nothing sent to the job's group reaches it
    stdio: ["ignore", "pipe", "pipe"],
  });
  // Read now, while it surely exists (a zombie at worst: node has not reaped it yet).
  const identity = child.pid === undefined ? undefined : processIdentity(child.pid);
  const result = new Promise<ProbeResult>((resolve) => {
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
    const timer = setTimeout(() => {
      child.stdout.destroy();
      child.stderr.destroy();
      child.unref();
      resolve({ status: "timeout" });
    }, seconds * 1000);
    child.on("error", (error) => {
      clearTimeout(timer);
      resolve({ status: "failed", error: `cannot run stat: ${error.message}` });
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      const stats = code === 0 ? parseStatFs(out) : undefined;
      if (stats) resolve({ status: "ok", stats });
      else resolve({ status: "failed", error: err.trim().replace(/^stat: /, "") || `stat -f exited with ${code}` });
    });
  });
  return { identity, result };
}

export interface StatMountsOptions {
  /** Seconds each mount has to answer. */
  timeout: number;
  stateDir: string;
  now: Date;
  /** Told when mount-probes.json was unusable and set aside. */
  onReset: ResetReport;
}

/**
 * statfs of every mount, each bounded by the timeout, never more than one process per mount
 * outstanding across runs (see the top of this file). Results keep the mounts' order.
 */
export async function statMounts(mounts: readonly Mount[], options: StatMountsOptions): Promise<MountStat[]> {
  const { timeout, stateDir, now, onReset } = options;
  // Loaded here, not at the top: only the disk sensor needs it, and the others start faster without it.
  const { spawn } = await import("node:child_process");
  const file = stateFile(stateDir, STATE_NAME);
  await fs.mkdir(stateDir, { recursive: true });
  const nowIso = now.toISOString();
  const results = new Map<string, MountStat>();
  const probes = new Map<string, { probe: Probe; before?: MountRecord }>();

  // Under the lock, so that two runs at once never both start a probe on one mount. A mount that
  // another run is measuring right now is waited for (until its probe ends, at most the timeout),
  // then measured again by this run; one whose probe is stuck is reported stuck at once.
  const waitingSince = Date.now();
  let pending = [...mounts];
  while (pending.length > 0) {
    const busy: Mount[] = [];
    const others: ProcessIdentity[] = [];
    await withFileLock(file, async () => {
      const records = (await readState<MountRecords>(stateDir, STATE_NAME, mountRecordsProblem, onReset)) ?? {};
      for (const mount of pending) {
        const record = records[mount.mountPoint];
        if (record?.probe && stillRunning(record.probe)) {
          const started = record.probe_started ?? nowIso;
          const overdue =
            now.getTime() - Date.parse(started) >= timeout * 1000 || Date.now() - waitingSince >= timeout * 1000;
          if (record.trouble?.status === "stuck" || overdue) {
            const since = record.trouble?.since ?? started;
            results.set(mount.mountPoint, { mount, status: "stuck", since, probePid: record.probe.pid });
          } else {
            busy.push(mount);
            others.push(record.probe);
          }
          continue;
        }
        const probe = startProbe(spawn, mount.mountPoint, timeout);
        probes.set(mount.mountPoint, { probe, before: record });
        records[mount.mountPoint] = { ...record, probe: probe.identity, probe_started: nowIso };
      }
      // Mounts gone from the list (unmounted, excluded) are forgotten once nothing waits on them.
      for (const [mountPoint, record] of Object.entries(records)) {
        const watched = mounts.some((m) => m.mountPoint === mountPoint);
        if (!watched && !(record.probe && stillRunning(record.probe))) delete records[mountPoint];
      }
      await writeState(stateDir, STATE_NAME, records);
    });
    pending = busy;
    while (others.some((probe) => stillRunning(probe)) && Date.now() - waitingSince < timeout * 1000) await sleep(50);
  }

  const answers = new Map<string, ProbeResult>();
  await Promise.all([...probes].map(async ([mountPoint, { probe }]) => answers.set(mountPoint, await probe.result)));

  await withFileLock(file, async () => {
    const records = (await readState<MountRecords>(stateDir, STATE_NAME, mountRecordsProblem, onReset)) ?? {};
    for (const mount of mounts) {
      const started = probes.get(mount.mountPoint);
      const answer = answers.get(mount.mountPoint);
      if (!started || !answer) continue;
      const { probe, before } = started;
      const current = records[mount.mountPoint];
      // Another run may have started a probe of its own meanwhile: its record is left alone.
      const ours = current?.probe?.pid === probe.identity?.pid && current?.probe?.start === probe.identity?.start;
      if (answer.status === "ok") {
        results.set(mount.mountPoint, { mount, status: "ok", stats: answer.stats, recovered: !!before?.trouble });
        if (ours) delete records[mount.mountPoint];
      } else if (answer.status === "failed") {
        results.set(mount.mountPoint, { mount, status: "failed", error: answer.error });
        const since = before?.trouble?.status === "failed" ? before.trouble.since : nowIso;
        if (ours) records[mount.mountPoint] = { trouble: { status: "failed", since, error: answer.error } };
      } else {
        const since = before?.trouble?.status === "stuck" ? before.trouble.since : nowIso;
        results.set(mount.mountPoint, { mount, status: "stuck", since, probePid: probe.identity?.pid ?? 0 });
        if (ours) records[mount.mountPoint] = { ...current, trouble: { status: "stuck", since } };
      }
    }
    await writeState(stateDir, STATE_NAME, records);
  });
  return mounts.map((m) => results.get(m.mountPoint)!);
}

/** The real filesystems of this server, less `sensors.disk.exclude_mounts`. */
export async function watchedMounts(config: Config): Promise<Mount[]> {
  const { exclude_mounts } = config.sensors.disk;
  const mounts = parseMountInfo(await fs.readFile("/proc/self/mountinfo", "utf8"));
  return mounts.filter((m) => !exclude_mounts.includes(m.mountPoint));
}

let measured: Promise<MountStat[]> | undefined;

/**
 * The watched mounts' statfs figures, measured once per process and shared by every sensor that
 * asks (disk, inodes), with `sensors.disk.timeout` per mount.
 */
export function watchedMountStats(ctx: {
  config: Config;
  paths: { stateDir: string };
  log: { warn(message: string): void };
  now(): Date;
}): Promise<MountStat[]> {
  measured ??= watchedMounts(ctx.config).then((mounts) =>
    statMounts(mounts, {
      timeout: ctx.config.sensors.disk.timeout,
      stateDir: ctx.paths.stateDir,
      now: ctx.now(),
      onReset: (message) => ctx.log.warn(message),
    }),
  );
  return measured;
}
