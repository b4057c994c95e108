import fs from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { isCount, readState, writeState } from "../lib/state.js";
import { metricEntry } from "../storage/metric-catalogue.js";
import { makeSample, PartialFailure, round1, type Sensor } from "./sensor.js";

/** Cumulative jiffies of the "cpu" line of /proc/stat (guest time is already inside user and nice). */
export interface CpuCounters {
  user: number;
  nice: number;
  system: number;
  idle: number;
  iowait: number;
  irq: number;
  softirq: number;
  steal: number;
}

export interface ProcStat {
  total: CpuCounters;
  cores: number;
  /** Boot time: a different one means the counters restarted. */
  btime: number;
}

export function parseProcStat(text: string): ProcStat {
  let total: CpuCounters | undefined;
  let cores = 0;
  let btime = 0;
  for (const line of text.split("\n")) {
    const fields = line.trim().split(/\s+/);
    if (fields[0] === "cpu") {
      const [user, nice, system, idle, iowait, irq, softirq, steal] = fields.slice(1, 9).map((f) => Number(f) || 0);
      total = {
        user: user!,
        nice: nice!,
        system: system!,
        idle: idle!,
        iowait: iowait ?? 0,
        irq: irq ?? 0,
        softirq: softirq ?? 0,
        steal: steal ?? 0,
      };
    } else if (/^cpu\d+$/.test(fields[0] ?? "")) {
      cores++;
    } else if (fields[0] === "btime") {
      btime = Number(fields[1]);
    }
  }
  if (!total) throw new Error("/proc/stat: no aggregate cpu line");
  return { total, cores, btime };
}

export interface CpuUsage {
  busy: number;
  user: number;
  nice: number;
  system: number;
  iowait: number;
  steal: number;
}

const sum = (c: CpuCounters) => c.user + c.nice + c.system + c.idle + c.iowait + c.irq + c.softirq + c.steal;

/**
 * Percentages over the interval between two readings, as sar and mpstat compute them; busy is
 * everything but idle and iowait. Undefined when the counters went backwards (reboot, wrap) or did
 * not move: the caller must take a new baseline rather than report nonsense. A single field may
 * step back a little while the others advance (the kernel documents it for iowait on tickless
 * systems): like sysstat, that field counts as 0 for the interval, the rest still make a figure.
 */
export function cpuUsage(before: CpuCounters, after: CpuCounters): CpuUsage | undefined {
  if (sum(after) < sum(before)) return undefined;
  const delta = (k: keyof CpuCounters) => Math.max(0, after[k] - before[k]);
  const elapsed = (Object.keys(before) as (keyof CpuCounters)[]).reduce((total, k) => total + delta(k), 0);
  if (elapsed <= 0) return undefined;
  const pct = (k: keyof CpuCounters) => (delta(k) / elapsed) * 100;
  return {
    busy: round1(100 - pct("idle") - pct("iowait")),
    user: round1(pct("user")),
    nice: round1(pct("nice")),
    system: round1(pct("system") + pct("irq") + pct("softirq")),
    iowait: round1(pct("iowait")),
    steal: round1(pct("steal")),
  };
}

interface SavedCounters {
  counters: CpuCounters;
  btime: number;
  at: number;
}

const COUNTER_NAMES: readonly (keyof CpuCounters)[] = [
  "user",
  "nice",
  "system",
  "idle",
  "iowait",
  "irq",
  "softirq",
  "steal",
];

/** storage/state/cpu.json as this sensor writes it. */
function savedCountersProblem(value: unknown): string | undefined {
  const saved = value as Partial<Record<keyof SavedCounters, unknown>> | null;
  if (typeof saved !== "object" || saved === null || Array.isArray(saved)) return "expected an object";
  if (!isCount(saved.btime)) return "btime: expected a number";
  if (!isCount(saved.at)) return "at: expected a number";
  const counters = saved.counters as Record<string, unknown> | null;
  if (typeof counters !== "object" || counters === null || !COUNTER_NAMES.every((k) => isCount(counters[k])))
    return `counters: expected ${COUNTER_NAMES.join(", ")} as numbers`;
  return undefined;
}

const STATE = "cpu";
// With no usable earlier reading, measure over this long, as `mpstat 1 1` would.
const BASELINE_MS = 1000;
// Past this, the figure is an average over a long stretch (cron stopped?), said so in details.
const LONG_INTERVAL_S = 15 * 60;

export const cpu: Sensor = {
  name: "cpu",
  description: "CPU busy % since the previous cpu sample (like sar)",
  metrics: [
    metricEntry({
      metric_type: "CPU",
      title: "CPU",
      kind: "percent",
      help: "CPU busy percent (all but idle and iowait) since the previous sample, latest sample.",
      labels: [],
      prometheus: { name: "ams_cpu_percent", type: "gauge" },
      chart: { order: 10, floor: 0, ceiling: 100 },
      rules: { cpu_high: { op: ">", threshold: 90, clear: 85, for: "10m", severity: "warning" } },
    }),
  ],
  async collect(ctx) {
    const readStat = async () => parseProcStat(await fs.readFile("/proc/stat", "utf8"));
    let saved: SavedCounters | undefined;
    let reset: string | undefined;
    try {
      saved = await readState<SavedCounters>(ctx.paths.stateDir, STATE, savedCountersProblem, (m) => (reset = m));
    } catch (err) {
      ctx.log.warn(`cpu: ignoring unreadable counters: ${(err as Error).message}`);
    }
    let current = await readStat();
    let now = ctx.now().getTime();
    let intervalS = saved ? (now - saved.at) / 1000 : 0;
    let usage = saved && saved.btime === current.btime ? cpuUsage(saved.counters, current.total) : undefined;
    if (!usage) {
      const baseline = current;
      const start = now;
      await sleep(BASELINE_MS);
      current = await readStat();
      now = ctx.now().getTime();
      usage = cpuUsage(baseline.total, current.total);
      intervalS = (now - start) / 1000;
    }
    await writeState(ctx.paths.stateDir, STATE, {
      counters: current.total,
      btime: current.btime,
      at: now,
    } satisfies SavedCounters);
    if (!usage) throw new Error("/proc/stat: CPU counters did not advance");
    const samples = [
      makeSample(ctx, "CPU", usage.busy, "%", {
        details: {
          user: usage.user,
          nice: usage.nice,
          system: usage.system,
          iowait: usage.iowait,
          steal: usage.steal,
          cores: current.cores,
          interval_seconds: round1(intervalS),
          ...(intervalS > LONG_INTERVAL_S ? { long_interval: true } : {}),
        },
      }),
    ];
    // Measured over a fresh baseline and stored, but this run fails so that the reset is seen once.
    if (reset) throw new PartialFailure(samples, reset);
    return samples;
  },
};
