import { z } from "zod";
import { isoLocal } from "../lib/time.js";

/**
 * One measurement: the record stored in system_logs.json (DESIGN.md, "The record").
 * A series is server_id + metric_type + labels. Unknown fields are kept, so a newer AMS's
 * records survive an older one's rewrite.
 */
export const SampleSchema = z.looseObject({
  server_id: z.string().min(1).max(253),
  metric_type: z.string().min(1).max(200),
  timestamp: z.iso.datetime({ offset: true }),
  value: z.number(),
  unit: z.string().max(32),
  labels: z.record(z.string(), z.string()).optional(),
  details: z.record(z.string(), z.unknown()).optional(),
  /** Set on hourly records that consolidate older raw samples; `value` is then their mean. */
  rollup: z
    .object({ period_seconds: z.number().positive(), count: z.number().int().positive(), min: z.number(), max: z.number() })
    .optional(),
});

export type Sample = z.infer<typeof SampleSchema>;

/** Units of the built-in metrics, for records of the original AMS that carry none. */
const LEGACY_UNITS: Record<string, string> = { CPU: "%", RAM: "%", Disk: "%", Processes: "count", Users: "count" };
const LEGACY_CERT_PREFIX = "Security Alert: ";

/** "2025-04-18 14:02:00", the original AMS's local-time stamp, as an ISO stamp with this machine's offset. */
function legacyTimestamp(text: unknown): string | undefined {
  if (typeof text !== "string") return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?$/.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const date = new Date(y, mo - 1, d, h, mi, s);
  return Number.isNaN(date.getTime()) ? undefined : isoLocal(date);
}

/** 12.5 or "12.5%" or "12.5" → 12.5. */
function legacyValue(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value !== "string") return undefined;
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*%?\s*$/.exec(value);
  return m ? Number(m[1]) : undefined;
}

function fromLegacy(raw: Record<string, unknown>, serverId: string): Sample | undefined {
  const timestamp = legacyTimestamp(raw.timestamp);
  const metric = raw.metric_type;
  if (!timestamp || typeof metric !== "string" || metric === "") return undefined;
  if (metric.startsWith(LEGACY_CERT_PREFIX) && typeof raw.value === "string") {
    const title = metric.slice(LEGACY_CERT_PREFIX.length);
    return { server_id: serverId, metric_type: "CERT", timestamp, value: 1, unit: "advisory", details: { title, link: raw.value } };
  }
  const value = legacyValue(raw.value);
  if (value === undefined) return undefined;
  return { server_id: serverId, metric_type: metric, timestamp, value, unit: LEGACY_UNITS[metric] ?? "" };
}

/**
 * A stored record as a Sample, in AMS form or in the original Python AMS form; undefined when it
 * fits neither. `fallbackServerId` tags records that lack a usable server_id (remote copies).
 */
export function normalizeRecord(raw: unknown, fallbackServerId: string): Sample | undefined {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return undefined;
  const record = raw as Record<string, unknown>;
  const usableId = typeof record.server_id === "string" && record.server_id.trim() !== "";
  const withId = usableId ? record : { ...record, server_id: fallbackServerId };
  const parsed = SampleSchema.safeParse(withId);
  if (parsed.success) return parsed.data;
  return fromLegacy(withId, withId.server_id as string);
}
