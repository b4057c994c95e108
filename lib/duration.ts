import { z } from "zod";

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** "90s", "10m", "4h", "7d" or a plain number of seconds → seconds; undefined when it is neither. */
export function parseDuration(text: string | number): number | undefined {
  if (typeof text === "number") return Number.isFinite(text) && text >= 0 ? text : undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$/.exec(text);
  if (!match) return undefined;
  return Number(match[1]) * UNIT_SECONDS[match[2] || "s"]!;
}

/** Seconds in the largest whole unit: 600 → "10m", 86400 → "1d". */
export function formatDuration(seconds: number): string {
  for (const unit of ["d", "h", "m"]) {
    const size = UNIT_SECONDS[unit]!;
    if (seconds >= size && seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

/**
 * Node's timers wait at most 2^31-1 ms (about 24.8 days): a longer delay fires after 1 ms. Every
 * duration that ends up in a timer stays below this.
 */
export const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/**
 * A config duration in the forms of parseDuration, yielding seconds, between `min` (inclusive
 * unless `above`, default 0) and `max`: each key bounds itself to what it can mean, so "25d" for a
 * plugin's timeout is refused with the key named, never turned into a timer that fires at once.
 */
export function durationUpTo(max: number, options: { min?: number; above?: boolean } = {}) {
  const { min = 0, above = false } = options;
  return z.union([z.number(), z.string()]).transform((input, ctx) => {
    const seconds = parseDuration(input);
    if (seconds === undefined) {
      ctx.addIssue({
        code: "custom",
        message: `expected a duration such as "90s", "10m", "4h" or "7d", got ${JSON.stringify(input)}`,
      });
      return z.NEVER;
    }
    if (seconds > max || seconds < min || (above && seconds === min)) {
      const lower = above ? `more than ${formatDuration(min)}` : `at least ${formatDuration(min)}`;
      ctx.addIssue({
        code: "custom",
        message: `expected ${lower} and at most ${formatDuration(max)}, got ${JSON.stringify(input)}`,
      });
      return z.NEVER;
    }
    return seconds;
  });
}
