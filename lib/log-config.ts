import { z } from "zod";

/** `logs` section: size-based rotation of logs/<job>.log, done by the jobs themselves. */
export const LogsConfig = z
  .strictObject({
    /** A log reaching this size is renamed <job>.log.1 before the next line is written. */
    max_bytes: z
      .number()
      .int()
      .min(1024)
      .default(5 * 1024 * 1024),
    /** How many rotated files (<job>.log.1 … .N) are kept; 0 keeps none. */
    generations: z.number().int().min(0).max(100).default(3),
  })
  .prefault({});

export type LogsOptions = z.infer<typeof LogsConfig>;
