import { CONTROL_CHARACTER } from "../lib/server-name.js";
import { isoLocal } from "../lib/time.js";

/** Set on hourly records that consolidate older raw samples; `value` is then their mean. */
export interface Rollup {
  period_seconds: number;
  count: number;
  min: number;
  max: number;
}

/**
 * One measurement: the record stored in system_logs.json (docs/ARCHITECTURE.md#the-record).
 * A series is server_id + metric_type + labels. Unknown fields are kept, so a newer AMS's
 * records survive an older one's rewrite.
 */
export interface Sample {
  server_id: string;
  metric_type: string;
  /** ISO 8601 with its offset. */
  timestamp: string;
  value: number;
  unit: string;
  labels?: Record<string, string>;
  details?: Record<string, unknown>;
  rollup?: Rollup;
  [extra: string]: unknown;
}

const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$/;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isText = (v: unknown, max: number, min = 1): v is string =>
  typeof v === "string" && v.length >= min && v.length <= max;
const isNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
/** A name from data (server, metric, label) that cannot forge a line in a mail or a log. */
const isName = (v: unknown, max: number): v is string => isText(v, max) && !CONTROL_CHARACTER.test(v);

/**
 * `check`, remembering the last string it passed: a store repeats its server's name, its metrics'
 * names and a sensor run's timestamp record after record, and a reader checks every record.
 */
function rememberLastPassed(check: (v: string) => boolean): (v: unknown) => v is string {
  let passed: string | undefined;
  return (v): v is string => {
    if (typeof v !== "string") return false;
    if (v === passed) return true;
    if (!check(v)) return false;
    passed = v;
    return true;
  };
}
const isServerName = rememberLastPassed((v) => isName(v, 253));
const isMetricName = rememberLastPassed((v) => isName(v, 200));
const isTimestamp = rememberLastPassed((v) => ISO_WITH_OFFSET.test(v) && !Number.isNaN(Date.parse(v)));

/**
 * Why `value` cannot be a measurement in `unit`, or undefined when it can: a finite number, and a
 * percentage within 0-100 (a stored "1e308 %" would flatten every other line of the fleet chart).
 * Checked for every record read or written, and for each value a plugin prints.
 */
export function valueProblem(value: unknown, unit: unknown): string | undefined {
  if (!isNumber(value)) return "expected a finite number";
  if (unit === "%" && (value < 0 || value > 100)) return "a percentage must be within 0 to 100";
  return undefined;
}

/**
 * Why `raw` is not a Sample ("field: problem"), or undefined when it is one. Written by hand rather
 * than with the schema library: every sensor run validates what it stores, and a cron job's
 * start-up should not pay for building schemas.
 */
export function sampleProblem(raw: unknown): string | undefined {
  if (!isObject(raw)) return "(record): expected an object";
  if (!isServerName(raw.server_id))
    return "server_id: expected a string of 1 to 253 characters, without control characters";
  if (!isMetricName(raw.metric_type))
    return "metric_type: expected a string of 1 to 200 characters, without control characters";
  if (!isTimestamp(raw.timestamp)) {
    return "timestamp: expected ISO 8601 with an offset, e.g. 2026-11-25T14:02:00.000+01:00";
  }
  if (!isText(raw.unit, 32, 0)) return "unit: expected a string of at most 32 characters";
  const valueIssue = valueProblem(raw.value, raw.unit);
  if (valueIssue) return `value: ${valueIssue}`;
  if (
    raw.labels !== undefined &&
    (!isObject(raw.labels) ||
      !Object.entries(raw.labels).every(
        ([k, v]) => !CONTROL_CHARACTER.test(k) && typeof v === "string" && !CONTROL_CHARACTER.test(v),
      ))
  ) {
    return "labels: expected an object of strings, without control characters";
  }
  if (raw.details !== undefined && !isObject(raw.details)) return "details: expected an object";
  if (raw.rollup !== undefined) {
    const r = raw.rollup;
    if (
      !isObject(r) ||
      !isNumber(r.period_seconds) ||
      r.period_seconds <= 0 ||
      !Number.isInteger(r.count) ||
      (r.count as number) <= 0 ||
      valueProblem(r.min, raw.unit) !== undefined ||
      valueProblem(r.max, raw.unit) !== undefined
    ) {
      return "rollup: expected { period_seconds > 0, count > 0 (whole), min, max } (min and max like value)";
    }
  }
  return undefined;
}

export const isSample = (raw: unknown): raw is Sample => sampleProblem(raw) === undefined;

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
  // The original's CERT records carry an advisory's whole title in metric_type: longer than ours.
  if (!timestamp || !isName(metric, 4096) || !isName(serverId, 253)) return undefined;
  if (metric.startsWith(LEGACY_CERT_PREFIX) && typeof raw.value === "string") {
    const title = metric.slice(LEGACY_CERT_PREFIX.length);
    return {
      server_id: serverId,
      metric_type: "CERT",
      timestamp,
      value: 1,
      unit: "advisory",
      details: { title, link: raw.value },
    };
  }
  const value = legacyValue(raw.value);
  const unit = LEGACY_UNITS[metric] ?? "";
  if (value === undefined || valueProblem(value, unit)) return undefined;
  return { server_id: serverId, metric_type: metric, timestamp, value, unit };
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
  if (isSample(withId)) return withId;
  return fromLegacy(withId, withId.server_id as string);
}
