import fs from "node:fs/promises";
import { readState, writeState } from "../lib/state.js";
import { isoLocal } from "../lib/time.js";
import { metricEntry } from "../storage/metric-catalogue.js";
import { parseProcStat } from "./cpu.js";
import { makeSample, PartialFailure, type Sensor } from "./sensor.js";

/** Seconds since boot: the first field of /proc/uptime. */
export function parseUptime(text: string): number {
  const seconds = Number(text.trim().split(/\s+/)[0]);
  if (!Number.isFinite(seconds)) throw new Error(`/proc/uptime: unexpected "${text.trim()}"`);
  return seconds;
}

// btime is worked out from the clock and the uptime, and wobbles by a second.
const BTIME_JITTER_S = 5;

/** What the previous run saw: the boot time, and when it looked (both Unix seconds). */
export interface SavedBoot {
  btime: number;
  at?: number;
}

/** storage/state/uptime.json as this sensor writes it. */
function savedBootProblem(value: unknown): string | undefined {
  const saved = value as Partial<Record<keyof SavedBoot, unknown>> | null;
  if (typeof saved !== "object" || saved === null || Array.isArray(saved)) return "expected an object";
  if (typeof saved.btime !== "number" || !Number.isFinite(saved.btime)) return "btime: expected a number";
  if (saved.at !== undefined && (typeof saved.at !== "number" || !Number.isFinite(saved.at)))
    return "at: expected a number";
  return undefined;
}

/**
 * True when this boot is not the one the previous run saw: another boot time, and one after that
 * run. A clock step also moves btime, but not past the previous run unless the step is larger than
 * the uptime was then.
 */
export function rebootedSince(saved: SavedBoot | undefined, btime: number): boolean {
  if (!saved || Math.abs(btime - saved.btime) <= BTIME_JITTER_S) return false;
  return saved.at === undefined || btime >= saved.at - BTIME_JITTER_S;
}

const STATE = "uptime";
/** The event stored when the server rebooted since the previous run. */
export const REBOOT_METRIC = "Reboot";

export const uptime: Sensor = {
  name: "uptime",
  description: "Seconds since boot; a reboot since the previous run is stored as a Reboot event",
  metrics: [
    metricEntry({
      metric_type: "Uptime",
      title: "Uptime",
      kind: "seconds",
      help: "Seconds since the server booted, latest sample.",
      labels: [],
      prometheus: { name: "ams_uptime_seconds", type: "gauge" },
      chart: { order: 100, floor: 0 },
    }),
    // A reboot is an event, mailed once by ams-alert ("rebooted") and listed with the alerts.
    metricEntry({
      metric_type: REBOOT_METRIC,
      title: "Reboot",
      kind: "event",
      help: "The server rebooted since the previous uptime sample.",
      labels: [],
      prometheus: null,
      chart: null,
    }),
  ],
  async collect(ctx) {
    const [uptimeText, statText] = await Promise.all([
      fs.readFile("/proc/uptime", "utf8"),
      fs.readFile("/proc/stat", "utf8"),
    ]);
    const seconds = parseUptime(uptimeText);
    const { btime } = parseProcStat(statText);
    let saved: SavedBoot | undefined;
    let reset: string | undefined;
    try {
      saved = await readState<SavedBoot>(ctx.paths.stateDir, STATE, savedBootProblem, (m) => (reset = m));
    } catch (err) {
      ctx.log.warn(`uptime: ignoring unreadable boot time: ${(err as Error).message}`);
    }
    await writeState(ctx.paths.stateDir, STATE, {
      btime,
      at: Math.round(ctx.now().getTime() / 1000),
    } satisfies SavedBoot);
    const bootTime = isoLocal(new Date(btime * 1000));
    const samples = [makeSample(ctx, "Uptime", Math.round(seconds), "s", { details: { boot_time: bootTime } })];
    if (rebootedSince(saved, btime)) {
      samples.push(
        makeSample(ctx, REBOOT_METRIC, 1, "event", {
          details: { boot_time: bootTime, previous_boot_time: isoLocal(new Date(saved!.btime * 1000)) },
        }),
      );
    }
    if (reset) throw new PartialFailure(samples, reset);
    return samples;
  },
};
