import { z } from "zod";
import { durationUpTo } from "../lib/duration.js";

/** `sensors.plugins`: the drop-in folder of custom sensors and how their runs are bounded. */
export const PluginsConfig = z
  .strictObject({
    /** Relative to the data home unless absolute. */
    dir: z.string().min(1).default("sensors.d"),
    timeout: durationUpTo(3600, { above: true }).default(10),
    concurrency: z.number().int().min(1).max(64).default(4),
    max_output_bytes: z
      .number()
      .int()
      .min(1024)
      .max(16 * 1024 * 1024)
      .default(64 * 1024),
  })
  .prefault({});
