import fsSync from "node:fs";
import fs from "node:fs/promises";
import { readState, writeState } from "../lib/state.js";
import { metricEntry } from "../storage/metric-catalogue.js";
import { makeSample, PartialFailure, round1, type Sensor } from "./sensor.js";

/** The fields of /proc/<pid>/stat that AMS uses. */
export interface ProcStatEntry {
  pid: number;
  /** The process name (comm), never its command line: that can hold passwords. */
  name: string;
  state: string;
  /** utime + stime, in clock ticks. */
  cpuTicks: number;
  startTicks: number;
  rssPages: number;
}

/** One /proc/<pid>/stat line. The name sits in parentheses and may itself hold spaces and ")". */
export function parseProcPidStat(text: string): ProcStatEntry | undefined {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < open) return undefined;
  const rest = text.slice(close + 2).split(" ");
  // rest[0] is field 3 (state); field N is rest[N - 3].
  const field = (n: number) => Number(rest[n - 3]);
  const entry = {
    pid: Number(text.slice(0, open).trim()),
    name: text.slice(open + 1, close),
    state: rest[0] ?? "?",
    cpuTicks: field(14) + field(15),
    startTicks: field(22),
    rssPages: field(24),
  };
  return Number.isFinite(entry.cpuTicks) && Number.isFinite(entry.rssPages) ? entry : undefined;
}

// USER_HZ: the unit of /proc's tick counts, 100 on every Linux ABI that AMS targets.
const TICKS_PER_SECOND = 100;

export interface ProcessUsage {
  pid: number;
  name: string;
  cpu_percent: number;
  rss_bytes: number;
}

/** Ticks used by each process at a moment, to turn the next reading into a CPU % over the interval. */
export interface TickSnapshot {
  at: number;
  uptime: number;
  ticks: Record<string, number>;
}

const snapshotKey = (p: ProcStatEntry) => `${p.pid}:${p.startTicks}`;

const isNumber = (v: unknown) => typeof v === "number" && Number.isFinite(v);

/** storage/state/processes.json as this sensor writes it. */
function snapshotProblem(value: unknown): string | undefined {
  const saved = value as Partial<Record<keyof TickSnapshot, unknown>> | null;
  if (typeof saved !== "object" || saved === null || Array.isArray(saved)) return "expected an object";
  if (!isNumber(saved.at)) return "at: expected a number";
  if (!isNumber(saved.uptime)) return "uptime: expected a number";
  const ticks = saved.ticks;
  if (typeof ticks !== "object" || ticks === null || Array.isArray(ticks) || !Object.values(ticks).every(isNumber))
    return "ticks: expected an object of numbers";
  return undefined;
}

/**
 * CPU % per process: over the interval since `previous` when the process was already seen then,
 * else over its lifetime as `ps` reports it. One core busy = 100 %.
 */
export function processUsage(
  entries: ProcStatEntry[],
  uptime: number,
  pageSize: number,
  previous?: TickSnapshot,
): ProcessUsage[] {
  const elapsed = previous ? uptime - previous.uptime : 0;
  return entries.map((p) => {
    const before = previous?.ticks[snapshotKey(p)];
    const seconds = before !== undefined && elapsed > 0 ? elapsed : uptime - p.startTicks / TICKS_PER_SECOND;
    const ticks = before !== undefined && elapsed > 0 ? p.cpuTicks - before : p.cpuTicks;
    const cpuPercent = seconds > 0 ? (ticks / TICKS_PER_SECOND / seconds) * 100 : 0;
    return { pid: p.pid, name: p.name, cpu_percent: round1(Math.max(0, cpuPercent)), rss_bytes: p.rssPages * pageSize };
  });
}

export function topBy(usages: ProcessUsage[], key: "cpu_percent" | "rss_bytes", count = 5): ProcessUsage[] {
  return [...usages].sort((a, b) => b[key] - a[key] || a.pid - b.pid).slice(0, count);
}

/** Bytes per page: this process's VmRSS (kB) against its resident pages in statm. */
async function pageSize(): Promise<number> {
  const [status, statm] = await Promise.all([
    fs.readFile("/proc/self/status", "utf8"),
    fs.readFile("/proc/self/statm", "utf8"),
  ]);
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
  const pages = Number(statm.split(" ")[1]);
  const size = (rssKb * 1024) / pages;
  return Number.isFinite(size) && size >= 4096 ? 2 ** Math.round(Math.log2(size)) : 4096;
}

/**
 * Every process's stat; processes that exit while being read are simply not counted. Read
 * synchronously: hundreds of tiny /proc files cost far less than as many thread-pool round trips.
 */
function readAllProcesses(): ProcStatEntry[] {
  const entries: ProcStatEntry[] = [];
  for (const pid of fsSync.readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const entry = parseProcPidStat(fsSync.readFileSync(`/proc/${pid}/stat`, "utf8"));
      if (entry) entries.push(entry);
    } catch {
      // gone meanwhile
    }
  }
  return entries;
}

const STATE = "processes";

export const processes: Sensor = {
  name: "processes",
  description: "Number of processes (as ps -e counts them), zombies, top five by CPU and by memory",
  metrics: [
    metricEntry({
      metric_type: "Processes",
      title: "Processes",
      kind: "count",
      help: "Number of processes, latest sample.",
      labels: [],
      prometheus: { name: "ams_processes", type: "gauge" },
      chart: { order: 80, floor: 0 },
      rules: { processes_high: { op: ">", threshold: 500, for: "10m", severity: "warning" } },
    }),
  ],
  async collect(ctx) {
    const entries = readAllProcesses();
    const [uptimeText, pages] = await Promise.all([fs.readFile("/proc/uptime", "utf8"), pageSize()]);
    const uptime = Number(uptimeText.split(" ")[0]);
    let previous: TickSnapshot | undefined;
    let reset: string | undefined;
    try {
      previous = await readState<TickSnapshot>(ctx.paths.stateDir, STATE, snapshotProblem, (m) => (reset = m));
    } catch (err) {
      ctx.log.warn(`processes: ignoring unreadable state: ${(err as Error).message}`);
    }
    // A snapshot from before a reboot has a larger uptime: its ticks mean nothing now.
    if (previous && previous.uptime >= uptime) previous = undefined;
    // The sensor itself is counted, like ps counts itself, but not listed among the top processes.
    const usages = processUsage(entries, uptime, pages, previous).filter((p) => p.pid !== process.pid);
    const snapshot: TickSnapshot = {
      at: ctx.now().getTime(),
      uptime,
      ticks: Object.fromEntries(entries.map((p) => [snapshotKey(p), p.cpuTicks])),
    };
    await writeState(ctx.paths.stateDir, STATE, snapshot);
    const samples = [
      makeSample(ctx, "Processes", entries.length, "count", {
        details: {
          zombies: entries.filter((p) => p.state === "Z").length,
          cpu_basis: previous ? "interval" : "lifetime",
          top_cpu: topBy(usages, "cpu_percent"),
          top_memory: topBy(usages, "rss_bytes"),
        },
      }),
    ];
    // Measured without the bad snapshot and stored, but this run fails so that the reset is seen once.
    if (reset) throw new PartialFailure(samples, reset);
    return samples;
  },
};
