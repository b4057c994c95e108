import { UsageError } from "./usage-error.js";

/**
 * The time a job acts at: now, or AMS_NOW (an ISO timestamp) to replay stored data as of a given
 * moment: tests use it to move time forward across runs of the built commands.
 */
export function now(env: NodeJS.ProcessEnv = process.env): Date {
  const fixed = env.AMS_NOW;
  if (!fixed) return new Date();
  const date = new Date(fixed);
  if (Number.isNaN(date.getTime())) throw new UsageError(`AMS_NOW: not a timestamp: ${JSON.stringify(fixed)}`);
  return date;
}
