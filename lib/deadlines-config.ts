import { z } from "zod";
import { DEFAULT_DEADLINES, type ScheduledJob } from "./deadlines.js";
import { durationUpTo } from "./duration.js";

// Apart from lib/deadlines.ts so that a job that finds its config validated in the cache (lib/job-config.ts) loads no zod.

/** The longest deadline: a day, the longest period any job is scheduled at. */
const MAX_DEADLINE_SECONDS = 86400;

const deadline = (job: ScheduledJob) =>
  durationUpTo(MAX_DEADLINE_SECONDS, { above: true }).default(DEFAULT_DEADLINES[job]);

/** The `deadlines` config section: each scheduled job's deadline, in seconds. */
export const DeadlinesConfig = z
  .strictObject({
    sensor: deadline("sensor"),
    "fetch-remote": deadline("fetch-remote"),
    alert: deadline("alert"),
    graphs: deadline("graphs"),
    cleanup: deadline("cleanup"),
    backup: deadline("backup"),
  } satisfies Record<ScheduledJob, unknown>)
  .prefault({});
