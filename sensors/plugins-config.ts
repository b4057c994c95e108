import path from "node:path";
import { z } from "zod";
import type { Config } from "../lib/config.js";
import { Duration } from "../lib/duration.js";
import type { Paths } from "../lib/paths.js";

/** `sensors.plugins`: the drop-in folder of custom sensors and how their runs are bounded. */
export const PluginsConfig = z
  .strictObject({
    /** Relative to the data home unless absolute. */
    dir: z.string().min(1).default("sensors.d"),
    timeout: Duration.refine((s) => s > 0, "must be more than 0 seconds").default(10),
    concurrency: z.number().int().min(1).max(64).default(4),
    max_output_bytes: z.number().int().min(1024).max(16 * 1024 * 1024).default(64 * 1024),
  })
  .prefault({});

/** The plugins folder of this data home. */
export const pluginsDir = (paths: Paths, config: Config) => path.resolve(paths.home, config.sensors.plugins.dir);
