/**
 * What a metric is, declared once next to the sensor that writes it (the `metrics` of each sensor,
 * gathered in sensors/catalogue.ts) and read by every feature: rule validation, /metrics names and
 * HELP, chart order and axes, value formatting, the default alert rules. Plugin metrics get an
 * entry built from their perfdata unit. Pure: types and derivations only, no sensor I/O.
 */

/** How a value reads; the stored `unit` of each kind is fixed (KIND_UNITS). */
export type MetricKind =
  | "percent"
  | "count"
  | "ratio"
  | "bytes"
  | "bytes_per_second"
  | "per_second"
  | "seconds"
  | "celsius"
  | "state"
  | "event"
  | "number";

/** The unit stored with samples of each kind (the record's `unit`). */
export const KIND_UNITS: Record<MetricKind, string> = {
  percent: "%",
  count: "count",
  ratio: "",
  bytes: "B",
  bytes_per_second: "B/s",
  per_second: "/s",
  seconds: "s",
  celsius: "°C",
  state: "state",
  event: "event",
  number: "",
};

/** A default alert rule of a metric (the alerts config's rule, before validation). */
export interface DefaultRule {
  op: ">" | ">=" | "<" | "<=";
  threshold: number;
  clear?: number;
  /** Seconds, or a duration such as "15m". */
  for?: string | number;
  severity: "warning" | "critical";
}

export interface MetricEntry {
  /** The record's metric_type, what rules name. */
  metric_type: string;
  /** What charts and pages call it: "Load per CPU", "Network received". */
  title: string;
  kind: MetricKind;
  /** The record's unit: KIND_UNITS[kind] for built-ins; a plugin's own perfdata unit otherwise. */
  unit: string;
  /** One line, for /metrics HELP and the README. */
  help: string;
  /** The label names its samples carry. */
  labels: readonly string[];
  /** Its /metrics family; null for events, which are not gauges (CERT advisories, reboots). */
  prometheus: {
    name: string;
    type: "gauge" | "counter";
    /** Multiplies the stored value into the name's base unit. */ scale?: number;
  } | null;
  /** How charts show it; null: no chart (events). */
  chart: { order: number; floor?: number; ceiling?: number } | null;
  /** Alert rules on by default, by rule name. */
  rules?: Readonly<Record<string, DefaultRule>>;
}

/** A built-in metric's entry: the unit follows from the kind unless given (CERT's "advisory"). */
export function metricEntry(entry: Omit<MetricEntry, "unit"> & { unit?: string }): MetricEntry {
  return { ...entry, unit: entry.unit ?? KIND_UNITS[entry.kind] };
}

/** Nagios perfdata units of measure (and plain-line units) → kind and factor to the base unit. */
const PLUGIN_UNITS: Record<string, { kind: MetricKind; scale: number; suffix: string }> = {
  "%": { kind: "percent", scale: 1, suffix: "_percent" },
  s: { kind: "seconds", scale: 1, suffix: "_seconds" },
  ms: { kind: "seconds", scale: 1e-3, suffix: "_seconds" },
  us: { kind: "seconds", scale: 1e-6, suffix: "_seconds" },
  B: { kind: "bytes", scale: 1, suffix: "_bytes" },
  KB: { kind: "bytes", scale: 1024, suffix: "_bytes" },
  MB: { kind: "bytes", scale: 1024 ** 2, suffix: "_bytes" },
  GB: { kind: "bytes", scale: 1024 ** 3, suffix: "_bytes" },
  TB: { kind: "bytes", scale: 1024 ** 4, suffix: "_bytes" },
  c: { kind: "count", scale: 1, suffix: "_total" },
  count: { kind: "count", scale: 1, suffix: "" },
  state: { kind: "state", scale: 1, suffix: "" },
};

/** Text as a Prometheus name part: [a-z0-9_], never starting with a digit. */
export function prometheusNamePart(text: string): string {
  const name = text.replace(/[^A-Za-z0-9_]/g, "_").toLowerCase();
  return /^[0-9]/.test(name) ? `_${name}` : name;
}

/**
 * The entry of a plugin's metric (`<plugin>` with its perfdata unit, or `<plugin>_status`): the
 * family `ams_custom_<name>` with its base unit's suffix (`_seconds` for ms, `_bytes` for MB, …),
 * a counter ("c") as `_total`. Plugins come after the built-ins on charts.
 */
export function pluginEntry(metric_type: string, unit: string): MetricEntry {
  const known = Object.hasOwn(PLUGIN_UNITS, unit) ? PLUGIN_UNITS[unit]! : undefined;
  const kind = known?.kind ?? "number";
  const counter = unit === "c";
  return {
    metric_type,
    title: metric_type,
    kind,
    unit,
    help: `Custom sensor ${metric_type}${unit ? ` (${unit})` : ""}, latest sample.`,
    labels: ["label"],
    prometheus: {
      name: `ams_custom_${prometheusNamePart(metric_type)}${known?.suffix ?? ""}`,
      type: counter ? "counter" : "gauge",
      ...(known && known.scale !== 1 ? { scale: known.scale } : {}),
    },
    chart: { order: Number.MAX_SAFE_INTEGER, ...(kind === "percent" ? { floor: 0, ceiling: 100 } : {}) },
  };
}
