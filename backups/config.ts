import { z } from "zod";

/** `backups` section: which snapshots ams-backup keeps after each new one (README, "Backups"). */
export const BackupsConfig = z
  .strictObject({
    /** The newest snapshot of each of this many most recent hours. */
    keep_hourly: z.number().int().min(1).default(48),
    /** The newest snapshot of each of this many most recent days (UTC). */
    keep_daily: z.number().int().min(0).default(14),
  })
  .prefault({});

export type BackupsOptions = z.infer<typeof BackupsConfig>;
