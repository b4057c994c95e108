import type { Sample } from "./sample.js";

/**
 * The identity of a series: server_id + metric_type + labels (docs/ARCHITECTURE.md#the-record), labels in
 * name order so that {a, b} and {b, a} are one series. Used by every feature that groups samples.
 */

/** The labels as [name, value] pairs in name order. */
function sortedLabels(labels: Record<string, string> | undefined): [string, string][] {
  return Object.entries(labels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** A metric and its labels, across servers (what a combined chart shows). */
export function metricKey(metric: string, labels: Record<string, string> | undefined): string {
  // Most samples have no labels: skip the JSON for them (this runs once per sample).
  if (!labels || Object.keys(labels).length === 0) return metric;
  return `${metric}\u0000${JSON.stringify(sortedLabels(labels))}`;
}

export function seriesKey(sample: Pick<Sample, "server_id" | "metric_type" | "labels">): string {
  return `${sample.server_id}\u0000${metricKey(sample.metric_type, sample.labels)}`;
}
