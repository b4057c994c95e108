import { z } from "zod";
import { Duration } from "../lib/duration.js";

/** The `graphs` section of ams.config.json: how the generated pages behave. */
export const GraphsConfig = z
  .strictObject({
    /** An open page reloads itself this often, to follow the cron updates. */
    refresh: Duration.default(300),
  })
  .prefault({});
