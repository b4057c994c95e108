import type { Sample } from "../storage/sample.js";
import { seriesKey } from "../storage/series-key.js";
import type { AlertRuleFacts, Operator } from "../storage/alert-state.js";
import { labelsMatch, ruleForServer, type AlertsConfig } from "./config.js";

/**
 * Stage 1 of the alert pipeline (pure): samples + rules + now → one condition per
 * (rule, server, series), carrying every observation of that series in time order, so the state
 * stage can replay what happened between two runs rather than look at the latest value only.
 */

/** One sample judged against its rule. */
export interface Observation {
  /** Milliseconds since the epoch. */
  at: number;
  value: number;
  /** The firing condition holds (value op threshold). */
  breach: boolean;
  /** The value is back on the safe side of the clear threshold (hysteresis). */
  cleared: boolean;
  /** When the condition began, if not at this observation (the silent rule: the last sample). */
  since?: number;
}

export interface Condition extends AlertRuleFacts {
  observations: Observation[];
}

/** The built-in rule for servers that stopped reporting. */
export const SILENT_RULE = "server_silent";
export const SILENT_METRIC = "silence";

const compare: Record<Operator, (a: number, b: number) => boolean> = {
  ">": (a, b) => a > b,
  ">=": (a, b) => a >= b,
  "<": (a, b) => a < b,
  "<=": (a, b) => a <= b,
};

/** {fs="ext4",mount="/"}, sorted; "" without labels: the labels part of an alert key. */
function labelSelectorText(labels: Record<string, string> | undefined): string {
  const entries = Object.entries(labels ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return entries.length === 0 ? "" : `{${entries.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(",")}}`;
}

export function alertKey(rule: string, server: string, labels?: Record<string, string>): string {
  return `${rule}/${server}${labelSelectorText(labels)}`;
}

/** Samples grouped by series (server + metric + labels), each group in time order. */
function seriesOf(samples: readonly Sample[]): Map<string, Sample[]> {
  const series = new Map<string, Sample[]>();
  for (const sample of samples) {
    const id = seriesKey(sample);
    const group = series.get(id);
    if (group) group.push(sample);
    else series.set(id, [sample]);
  }
  for (const group of series.values()) group.sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp));
  return series;
}

function thresholdConditions(samples: readonly Sample[], alerts: AlertsConfig): Condition[] {
  const conditions: Condition[] = [];
  for (const group of seriesOf(samples).values()) {
    const first = group[0]!;
    for (const [name, configured] of Object.entries(alerts.rules)) {
      if (configured.metric !== first.metric_type || !labelsMatch(first.labels, configured.labels)) continue;
      const rule = ruleForServer(configured, first.server_id);
      if (!rule) continue;
      const clear = rule.clear ?? rule.threshold;
      const above = rule.op === ">" || rule.op === ">=";
      const observations = group.map((s) => {
        const breach = compare[rule.op](s.value, rule.threshold);
        // Without a clear threshold the alert ends when the condition stops holding.
        const cleared = rule.clear === undefined ? !breach : above ? s.value < clear : s.value > clear;
        return { at: Date.parse(s.timestamp), value: s.value, breach, cleared };
      });
      conditions.push({
        key: alertKey(name, first.server_id, first.labels),
        rule: name,
        server_id: first.server_id,
        metric_type: first.metric_type,
        labels: first.labels,
        unit: first.unit,
        op: rule.op,
        threshold: rule.threshold,
        for: rule.for,
        severity: rule.severity,
        observations,
      });
    }
  }
  return conditions;
}

/**
 * One observation per server, now: minutes since its last sample against silent_after. A server
 * with no sample at all counts from the time in `expectedSince` (a remote's first pull attempt).
 */
function silentConditions(
  samples: readonly Sample[],
  servers: readonly string[],
  alerts: AlertsConfig,
  now: Date,
  expectedSince: ReadonlyMap<string, number>,
): Condition[] {
  if (alerts.silent_after <= 0) return [];
  const last = new Map<string, number>();
  for (const s of samples) {
    const at = Date.parse(s.timestamp);
    if (at > (last.get(s.server_id) ?? -Infinity)) last.set(s.server_id, at);
  }
  const conditions: Condition[] = [];
  for (const server of new Set([...servers, ...last.keys()])) {
    const lastAt = last.get(server) ?? expectedSince.get(server);
    // A server never heard from and not expected either has no "since": nothing to say yet.
    if (lastAt === undefined) continue;
    const silentSeconds = Math.max(0, (now.getTime() - lastAt) / 1000);
    const breach = silentSeconds >= alerts.silent_after;
    conditions.push({
      key: alertKey(SILENT_RULE, server),
      rule: SILENT_RULE,
      server_id: server,
      metric_type: SILENT_METRIC,
      unit: "min",
      op: ">=",
      threshold: alerts.silent_after / 60,
      for: 0,
      severity: "critical",
      observations: [
        { at: now.getTime(), value: Math.floor(silentSeconds / 60), breach, cleared: !breach, since: lastAt },
      ],
    });
  }
  return conditions;
}

/**
 * True while the config still judges this alert: the silent rule while silent_after is on; a
 * threshold rule while it exists, is on for the alert's server and still watches its metric and
 * labels. An alert whose rule no longer applies is forgotten, not kept firing on its last value.
 */
export function ruleStillApplies(
  alerts: AlertsConfig,
  a: Pick<AlertRuleFacts, "rule" | "server_id" | "metric_type" | "labels">,
): boolean {
  if (a.rule === SILENT_RULE) return alerts.silent_after > 0 && a.metric_type === SILENT_METRIC;
  const configured = Object.hasOwn(alerts.rules, a.rule) ? alerts.rules[a.rule] : undefined;
  if (!configured || configured.metric !== a.metric_type || !labelsMatch(a.labels, configured.labels)) return false;
  return ruleForServer(configured, a.server_id) !== undefined;
}

/**
 * Every condition to judge this run: threshold rules per series, and silence per server of the
 * fleet (`expectedSince`: when each server that never reported was first expected to).
 */
export function evaluateRules(
  samples: readonly Sample[],
  alerts: AlertsConfig,
  servers: readonly string[],
  now: Date,
  expectedSince: ReadonlyMap<string, number> = new Map(),
): Condition[] {
  return [...thresholdConditions(samples, alerts), ...silentConditions(samples, servers, alerts, now, expectedSince)];
}
