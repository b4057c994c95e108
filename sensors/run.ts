import { appendSamples } from "../storage/store.js";
import { sampleProblem, type Sample } from "../storage/sample.js";
import { PartialFailure, type Sensor, type SensorContext } from "./sensor.js";

export interface SensorOutcome {
  sensor: string;
  /** What was stored (or, in a dry run, measured). */
  samples: Sample[];
  error?: Error;
  seconds: number;
}

export interface RunResult {
  outcomes: SensorOutcome[];
  /** Set when the store was unreadable and moved aside before the new samples were written. */
  movedAside?: string;
  /** Why it could not be read. */
  unreadable?: string;
}

interface Collected {
  sensor: Sensor;
  /** process.hrtime, not performance.now(): the global `performance` loads node:perf_hooks, 1 ms of a sensor's start. */
  started: bigint;
  samples: Sample[];
  error?: Error;
}

async function collect(sensor: Sensor, ctx: SensorContext): Promise<Collected> {
  const started = process.hrtime.bigint();
  try {
    return { sensor, started, samples: await sensor.collect(ctx) };
  } catch (err) {
    return { sensor, started, samples: err instanceof PartialFailure ? err.samples : [], error: err as Error };
  }
}

/** A sensor whose samples the store would refuse fails alone, rather than spoil the write it shares. */
function checkSamples(c: Collected): void {
  const index = c.samples.findIndex((s) => sampleProblem(s) !== undefined);
  if (index < 0) return;
  c.error ??= new Error(`sample ${index} (${c.samples[index]!.metric_type}): ${sampleProblem(c.samples[index])}`);
  c.samples = [];
}

/**
 * Runs the sensors side by side and stores what each one measured. One sensor failing does not
 * stop the others; each run's duration and outcome goes to the job log, as node_exporter records
 * its collectors' success. The samples go to the store in one locked write (cron runs several
 * sensors per process, and separate writes would queue on the lock); a sensor that dedupes its
 * samples against the store (cert) writes on its own.
 */
export async function runSensors(
  sensors: readonly Sensor[],
  ctx: SensorContext,
  options: { dryRun?: boolean } = {},
): Promise<RunResult> {
  let movedAside: string | undefined;
  let unreadable: string | undefined;
  const collected = await Promise.all(sensors.map((sensor) => collect(sensor, ctx)));
  collected.forEach(checkSamples);
  const batches = [
    collected.filter((c) => !c.sensor.dedupeKey),
    ...collected.filter((c) => c.sensor.dedupeKey).map((c) => [c]),
  ];
  await Promise.all(
    batches.map(async (batch) => {
      const samples = batch.flatMap((c) => c.samples);
      if (options.dryRun || samples.length === 0) return;
      const dedupeKey = batch.length === 1 ? batch[0]!.sensor.dedupeKey : undefined;
      try {
        const result = await appendSamples(ctx.paths.store, samples, {
          dedupeKey,
          fallbackServerId: ctx.config.server_id,
        });
        if (dedupeKey) batch[0]!.samples = result.added;
        movedAside ??= result.movedAside;
        unreadable ??= result.readError;
      } catch (err) {
        for (const c of batch) {
          c.error ??= err as Error;
          c.samples = [];
        }
      }
    }),
  );
  const outcomes = collected.map(({ sensor, started, samples, error }): SensorOutcome => {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (error) ctx.log.error(`${sensor.name} failed after ${seconds.toFixed(2)} s: ${error.message}`);
    else
      ctx.log.info(
        `${sensor.name}: ${samples.length} sample(s) ${options.dryRun ? "measured" : "stored"} in ${seconds.toFixed(2)} s`,
      );
    return { sensor: sensor.name, samples, error, seconds };
  });
  if (movedAside)
    ctx.log.error(`${unreadable ?? ctx.paths.store}: moved aside to ${movedAside}; a fresh store was started`);
  return { outcomes, movedAside, unreadable };
}
