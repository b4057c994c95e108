import { z } from "zod";
import type { StoreMark } from "./store-tail.js";

// Apart from store-tail.ts: the jobs that read a store from a mark (ams-fetch-remote checks copies
// with it) would otherwise load zod at start; only those that keep a mark between runs need this.
/** A mark as saved by a reader between runs, checked when read back. */
export const StoreMarkSchema: z.ZodType<StoreMark> = z.strictObject({
  dev: z.number(),
  ino: z.number(),
  birth: z.number(),
  size: z.number().int().min(0),
  mtime: z.number(),
  ctime: z.number(),
  end: z.number().int().min(0),
  records: z.number().int().min(1),
  window: z.string().regex(/^[0-9a-f]{40}$/),
});

/**
 * What a reader keeps, beside a mark, of how it read a store: the file, whom its records lacking a
 * server_id are tagged with and whom its remote may speak for (storeReading). When the config
 * changes any of them, what was kept no longer fits and the store is read whole.
 */
export const StoreReadingFields = {
  file: z.string(),
  fallback_id: z.string(),
  speaks_for: z.array(z.string()).nullable(),
};
