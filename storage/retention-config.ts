import { z } from "zod";
import { durationUpTo } from "../lib/duration.js";

/** `retention` section: how long ams-cleanup keeps this server's samples (README, "Retention"). */
export const RetentionConfig = z
  .strictObject({
    /** Raw samples younger than this many days are kept as measured. */
    raw_days: z.number().positive().default(7),
    /** Hourly rollups (min, mean, max of the raw samples they replace) are kept this many days. */
    rollup_days: z.number().positive().default(90),
    /** Last resort: past this size the oldest records go first. */
    max_bytes: z
      .number()
      .int()
      .min(1024)
      .default(50 * 1024 * 1024),
    /**
     * CERT advisories are events, not measurements: never averaged. The newest this many per
     * server are kept whatever their age, because the sensor recognises an advisory it has already
     * stored by its link, and the feeds list far fewer items than this.
     */
    cert_keep: z.number().int().min(1).default(500),
    /**
     * Rewriting the store costs its whole size in writes, so consolidation and expiry wait for a
     * batch: until the oldest raw sample is this much past raw_days (or the oldest record past
     * rollup_days). Raw samples thus stay up to raw_days plus this; 0 rewrites at every change.
     * Seconds once parsed; at most a week.
     */
    consolidate_every: durationUpTo(7 * 86400).default(86400),
  })
  .refine((r) => r.rollup_days >= r.raw_days, {
    message: "rollup_days must be at least raw_days",
    path: ["rollup_days"],
  })
  .prefault({});

export type RetentionOptions = z.infer<typeof RetentionConfig>;
