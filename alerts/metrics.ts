import { ConfigError } from "../lib/config.js";
import { BUILTIN_CATALOGUE } from "../sensors/catalogue.js";
import type { AlertsConfig } from "./config.js";

/** Metric types the built-in sensors write (their catalogue entries). */
export const BUILTIN_METRICS: readonly string[] = BUILTIN_CATALOGUE.map((e) => e.metric_type);

/**
 * The metrics a rule may name: the built-ins, and for every plugin that ams-sensor would run its
 * name (the plugin's values) and `<name>_status` (its Nagios status, 0 OK … 3 UNKNOWN).
 */
export function knownMetrics(plugins: readonly string[]): string[] {
  return [...BUILTIN_METRICS, ...plugins.flatMap((name) => [name, `${name}_status`])];
}

/** ConfigError naming `alerts.rules.<name>.metric` when a rule names a metric nothing writes. */
export function checkRuleMetrics(alerts: AlertsConfig, known: readonly string[], source: string): void {
  const problems = Object.entries(alerts.rules)
    .filter(([, rule]) => !known.includes(rule.metric))
    .map(
      ([name, rule]) =>
        `alerts.rules.${name}.metric: unknown metric ${JSON.stringify(rule.metric)} (known: ${known.join(", ")})`,
    );
  if (problems.length > 0) throw new ConfigError(`${source}: ${problems.join("; ")}`);
}
