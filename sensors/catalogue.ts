import { pluginEntry, type DefaultRule, type MetricEntry } from "../storage/metric-catalogue.js";
import { builtinSensors } from "./registry.js";

/** The reboot event (uptime sensor), which ams-alert mails and the pages list. */
export { REBOOT_METRIC } from "./uptime.js";

/**
 * The catalogue of every built-in metric, gathered from the sensors that declare them: the one
 * module of sensors/ that alerts, graphs and web read (it pulls no sensor I/O into them).
 */

export const BUILTIN_CATALOGUE: readonly MetricEntry[] = builtinSensors.flatMap((s) => s.metrics);

const byType = new Map(BUILTIN_CATALOGUE.map((e) => [e.metric_type, e]));

/** The built-in entry of a metric type, if it is one. */
export function builtinEntry(metric_type: string): MetricEntry | undefined {
  return byType.get(metric_type);
}

/** The entry of any stored metric: its built-in entry, else a plugin's, made from the sample's unit. */
export function catalogueEntry(metric_type: string, unit: string): MetricEntry {
  return byType.get(metric_type) ?? pluginEntry(metric_type, unit);
}

/** Every built-in metric's default rules, by rule name: the rules of a config that sets none. */
export function defaultRules(): Record<string, DefaultRule & { metric: string }> {
  return Object.fromEntries(
    BUILTIN_CATALOGUE.flatMap((e) =>
      Object.entries(e.rules ?? {}).map(([name, rule]) => [name, { metric: e.metric_type, ...rule }]),
    ),
  );
}
