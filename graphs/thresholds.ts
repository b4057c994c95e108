import { labelsMatch, ruleForServer } from "../alerts/config.js";
import type { Config } from "../config/ams-config.js";

/** A horizontal dashed line on a chart: where an alert rule fires. */
export interface Threshold {
  value: number;
  severity: "warning" | "critical";
  label: string;
}

/**
 * The alert thresholds to draw on the charts of `metric` (with `labels`): the rules that apply to
 * that series, with the server's own overrides on a one-server chart.
 */
export function chartThresholds(
  config: Config,
  metric: string,
  labels: Record<string, string>,
  server?: string,
): Threshold[] {
  return Object.entries(config.alerts.rules).flatMap(([name, rule]) => {
    if (rule.metric !== metric || !labelsMatch(labels, rule.labels)) return [];
    const effective = server === undefined ? (rule.enabled ? rule : undefined) : ruleForServer(rule, server);
    return effective
      ? [
          {
            value: effective.threshold,
            severity: effective.severity,
            label: `${name} ${effective.op} ${effective.threshold}`,
          },
        ]
      : [];
  });
}
