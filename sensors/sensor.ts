import type { Config } from "../config/ams-config.js";
import type { Logger } from "../lib/log.js";
import type { Paths } from "../lib/paths.js";
import { isoLocal } from "../lib/time.js";
import type { MetricEntry } from "../storage/metric-catalogue.js";
import type { Sample } from "../storage/sample.js";

/** What a sensor may use: its configuration, the data home (for state between runs), the log, a clock. */
export interface SensorContext {
  config: Config;
  paths: Paths;
  log: Logger;
  now(): Date;
}

/** One collector (like node_exporter's): registered by name in sensors/registry.ts, run by ams-sensor. */
export interface Sensor {
  name: string;
  description: string;
  /** The metrics it writes, each declared once here (gathered in sensors/catalogue.ts); [] for a plugin. */
  metrics: readonly MetricEntry[];
  collect(ctx: SensorContext): Promise<Sample[]>;
  /** When set, a sample whose key is already stored is not stored again (CERT advisories by link). */
  dedupeKey?: (sample: Sample) => string | undefined;
}

/** A sensor that measured only part of what it should: its samples are stored, the run still fails. */
export class PartialFailure extends Error {
  override name = "PartialFailure";
  constructor(
    readonly samples: Sample[],
    message: string,
  ) {
    super(message);
  }
}

/** A sample of this server, stamped now. */
export function makeSample(
  ctx: SensorContext,
  metric_type: string,
  value: number,
  unit: string,
  extra: Pick<Sample, "labels" | "details"> = {},
): Sample {
  return { server_id: ctx.config.server_id, metric_type, timestamp: isoLocal(ctx.now()), value, unit, ...extra };
}

/** Rounds a percentage or rate to one decimal, the precision the tools we compare with print. */
export function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
