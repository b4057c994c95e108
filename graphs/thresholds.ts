import type { Config } from "../lib/config.js";

/** A horizontal dashed line on a chart: where an alert rule fires. */
export interface Threshold {
  value: number;
  severity: "warning" | "critical";
  label: string;
}

/**
 * The alert thresholds to draw on the charts of `metric` (with `labels`). This branch has no alert
 * rules in its config yet, so none are drawn: when the alerts section exists, read its rules for
 * this metric here; every chart already draws what this returns.
 */
export function chartThresholds(_config: Config, _metric: string, _labels: Record<string, string>): Threshold[] {
  return [];
}
