import { appendSamples } from "../storage/store.js";
import type { Sample } from "../storage/sample.js";
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

/**
 * Runs the sensors side by side and stores what each one measured. One sensor failing does not
 * stop the others; each run's duration and outcome goes to the job log, as node_exporter records
 * its collectors' success.
 */
export async function runSensors(
  sensors: readonly Sensor[],
  ctx: SensorContext,
  options: { dryRun?: boolean } = {},
): Promise<RunResult> {
  let movedAside: string | undefined;
  let unreadable: string | undefined;
  const outcomes = await Promise.all(
    sensors.map(async (sensor): Promise<SensorOutcome> => {
      const started = performance.now();
      let samples: Sample[] = [];
      let error: Error | undefined;
      try {
        samples = await sensor.collect(ctx);
      } catch (err) {
        error = err as Error;
        if (err instanceof PartialFailure) samples = err.samples;
      }
      try {
        if (!options.dryRun && samples.length > 0) {
          const result = await appendSamples(ctx.paths.store, samples, {
            dedupeKey: sensor.dedupeKey,
            fallbackServerId: ctx.config.server_id,
          });
          samples = result.added;
          movedAside ??= result.movedAside;
          unreadable ??= result.readError;
        }
      } catch (err) {
        error ??= err as Error;
        samples = [];
      }
      const seconds = (performance.now() - started) / 1000;
      if (error) ctx.log.error(`${sensor.name} failed after ${seconds.toFixed(2)} s: ${error.message}`);
      else
        ctx.log.info(
          `${sensor.name}: ${samples.length} sample(s) ${options.dryRun ? "measured" : "stored"} in ${seconds.toFixed(2)} s`,
        );
      return { sensor: sensor.name, samples, error, seconds };
    }),
  );
  if (movedAside)
    ctx.log.error(`${unreadable ?? ctx.paths.store}: moved aside to ${movedAside}; a fresh store was started`);
  return { outcomes, movedAside, unreadable };
}
