import fs from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { isCount, readState, writeState } from "../lib/state.js";
import { parseProcStat } from "./cpu.js";
import type { SensorContext } from "./sensor.js";

/**
 * Rates from kernel counters that only grow (network bytes, disk sectors), over the time since
 * the previous run: the counters are kept in storage/state/<name>.json between runs, as cpu does.
 */

/** Named groups of cumulative counters (per interface, per disk) read at one moment. */
export interface CounterSnapshot {
  /** Milliseconds since the epoch. */
  at: number;
  /** Boot time (/proc/stat btime): a different one means every counter restarted. */
  btime: number;
  counters: Record<string, number[]>;
}

/**
 * Per second rates of each group present in both snapshots. A group with any counter lower than
 * before (a 32-bit wrap, the interface or driver reset) gets no figure: like a reboot, its new
 * values are only the baseline for the next run.
 */
export function ratesBetween(before: CounterSnapshot, after: CounterSnapshot): Map<string, number[]> {
  const rates = new Map<string, number[]>();
  const seconds = (after.at - before.at) / 1000;
  if (seconds <= 0 || before.btime !== after.btime) return rates;
  for (const [name, now] of Object.entries(after.counters)) {
    const then = before.counters[name];
    if (!then || then.length !== now.length || now.some((v, i) => v < then[i]!)) continue;
    rates.set(
      name,
      now.map((v, i) => (v - then[i]!) / seconds),
    );
  }
  return rates;
}

/** A saved CounterSnapshot as countersOverInterval writes it. */
function snapshotProblem(value: unknown): string | undefined {
  const saved = value as Partial<Record<keyof CounterSnapshot, unknown>> | null;
  if (typeof saved !== "object" || saved === null || Array.isArray(saved)) return "expected an object";
  if (!isCount(saved.at)) return "at: expected a number";
  if (!isCount(saved.btime)) return "btime: expected a number";
  const counters = saved.counters;
  if (
    typeof counters !== "object" ||
    counters === null ||
    Array.isArray(counters) ||
    !Object.values(counters).every((list) => Array.isArray(list) && list.every(isCount))
  )
    return "counters: expected lists of numbers by name";
  return undefined;
}

// With no usable earlier reading, measure over this long (as cpu does).
const BASELINE_MS = 1000;

const bootTime = async () => parseProcStat(await fs.readFile("/proc/stat", "utf8")).btime;

/**
 * Reads the counters, and the rates since the previous run's reading (saved as state `name`), or
 * over one second when there is none usable (first run, reboot). Saves the new reading.
 */
export async function countersOverInterval(
  ctx: SensorContext,
  name: string,
  read: () => Promise<Record<string, number[]>>,
): Promise<{ rates: Map<string, number[]>; seconds: number; reset?: string }> {
  let saved: CounterSnapshot | undefined;
  let reset: string | undefined;
  try {
    saved = await readState<CounterSnapshot>(ctx.paths.stateDir, name, snapshotProblem, (m) => (reset = m));
  } catch (err) {
    ctx.log.warn(`${name}: ignoring unreadable counters: ${(err as Error).message}`);
  }
  const btime = await bootTime();
  const snapshot = async (): Promise<CounterSnapshot> => ({ at: ctx.now().getTime(), btime, counters: await read() });
  let current = await snapshot();
  let before = saved;
  if (!before || before.btime !== btime || current.at <= before.at) {
    before = current;
    await sleep(BASELINE_MS);
    current = await snapshot();
  }
  await writeState(ctx.paths.stateDir, name, current);
  return { rates: ratesBetween(before, current), seconds: (current.at - before.at) / 1000, reset };
}
