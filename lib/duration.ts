import { z } from "zod";

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** "90s", "10m", "4h", "7d" or a plain number of seconds → seconds; undefined when it is neither. */
export function parseDuration(text: string | number): number | undefined {
  if (typeof text === "number") return Number.isFinite(text) && text >= 0 ? text : undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$/.exec(text);
  if (!match) return undefined;
  return Number(match[1]) * UNIT_SECONDS[match[2] || "s"]!;
}

/** A config duration: accepts the forms of parseDuration, yields seconds. */
export const Duration = z.union([z.number(), z.string()]).transform((input, ctx) => {
  const seconds = parseDuration(input);
  if (seconds === undefined) {
    ctx.addIssue({
      code: "custom",
      message: `expected a duration such as "90s", "10m", "4h" or "7d", got ${JSON.stringify(input)}`,
    });
    return z.NEVER;
  }
  return seconds;
});
