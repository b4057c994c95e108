import { z } from "zod";
import { durationUpTo } from "../lib/duration.js";

/** The `graphs` section of ams.config.json: how the generated pages behave. */
export const GraphsConfig = z
  .strictObject({
    /** An open page reloads itself this often, to follow the cron updates. */
    // At least 10 s: 0 would reload the page in a loop.
    refresh: durationUpTo(86400, { min: 10 }).default(300),
  })
  .prefault({});
