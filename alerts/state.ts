import { isoLocal } from "../lib/time.js";
import { formatSample } from "../storage/format-value.js";
import type { AlertEvent } from "../storage/alert-history.js";
import type { StoredAlert } from "../storage/alert-state.js";
import { SILENT_METRIC, type Condition, type Observation } from "./rules.js";

/**
 * Stage 2 of the alert pipeline (pure): previous state + conditions + now → new state + events.
 * Each alert goes ok → pending → firing → ok, emitting "fired", "reminded" (every `repeat`) and
 * "resolved". Only observations newer than the last one judged are replayed, so a run that finds
 * nothing new says nothing new; a series with no new data keeps its state (a gap is not a recovery).
 * The stages, in order: pick the fresh observations → replay them through each alert's state →
 * carry over the alerts not seen this run → remind of the alerts that still fire.
 */

/** Saved in storage/state/alerts.json, whose shape (and its check) storage/alert-state.ts declares. */
export type AlertState = StoredAlert;

export type AlertStates = Record<string, AlertState>;

/** A history event plus what a mail shows; `link` replaces the server page (a CERT advisory's own page). */
export type Notice = AlertEvent & { unit: string; op: string; link?: string };

export interface Advance {
  alerts: AlertStates;
  events: Notice[];
}

/** "CPU 97 % on web-1", or "web-1 silent for 35 min". */
export function describeValue(a: Pick<AlertState, "server_id" | "metric_type" | "labels" | "unit" | "value">): string {
  if (a.metric_type === SILENT_METRIC) return `${a.server_id} silent for ${a.value} min`;
  return formatSample({
    server_id: a.server_id,
    metric_type: a.metric_type,
    labels: a.labels,
    unit: a.unit,
    value: a.value,
    timestamp: "",
  });
}

/** 600 → "10 min". */
function humanDuration(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

function message(a: AlertState, event: AlertEvent["event"]): string {
  if (a.metric_type === SILENT_METRIC) {
    return event === "resolved"
      ? `${a.server_id} is sending samples again`
      : `${describeValue(a)} (no sample for ${a.threshold} min or more)`;
  }
  const rule = `${a.op} ${a.threshold}${a.for > 0 ? ` for ${humanDuration(a.for)}` : ""}`;
  return `${describeValue(a)}${event === "resolved" ? ", back to normal" : ""} (rule ${a.rule}: ${rule})`;
}

/** The history event (and notice) of an alert at `nowIso`. */
export function noticeOf(a: AlertState, event: AlertEvent["event"], nowIso: string): Notice {
  return {
    key: a.key,
    rule: a.rule,
    server_id: a.server_id,
    metric_type: a.metric_type,
    ...(a.labels ? { labels: a.labels } : {}),
    severity: a.severity,
    event,
    at: nowIso,
    since: a.since ?? nowIso,
    value: a.value,
    threshold: a.threshold,
    message: message(a, event),
    unit: a.unit,
    op: a.op,
  };
}

/**
 * The trailing run of breaching observations without a gap longer than maxGapMs, or just the last
 * one: where a series seen for the first time starts.
 */
function firstLook(observations: readonly Observation[], maxGapMs: number): Observation[] {
  let start = observations.length - 1;
  while (
    start > 0 &&
    observations[start]!.breach &&
    observations[start - 1]!.breach &&
    observations[start]!.at - observations[start - 1]!.at <= maxGapMs
  )
    start--;
  return observations.slice(Math.max(start, 0));
}

export interface AdvanceOptions {
  /** Seconds between reminders while this alert fires (alerts.repeat, or its route's). */
  repeatSeconds: (a: AlertState) => number;
  /**
   * A pending condition whose series had no sample for longer than this starts again: nobody saw
   * it hold through the gap, so the gap cannot count towards `for`.
   */
  maxGapSeconds: number;
  /** False when an alert's rule no longer applies to it (see ruleStillApplies). */
  stillApplies: (a: AlertState) => boolean;
}

/** Stage "fresh": the observations not judged yet (all of a first look's trailing run for a new series). */
function freshObservations(old: AlertState | undefined, c: Condition, maxGapMs: number): Observation[] {
  if (!old) return firstLook(c.observations, maxGapMs);
  const lastAt = Date.parse(old.last_at);
  return c.observations.filter((o) => o.at > lastAt);
}

/** The alert as this run's condition describes it (the rule may have changed), its status carried over. */
function startFrom(old: AlertState | undefined, c: Condition, nowIso: string): AlertState {
  return {
    status: "ok",
    ...old,
    key: c.key,
    rule: c.rule,
    server_id: c.server_id,
    metric_type: c.metric_type,
    ...(c.labels ? { labels: c.labels } : {}),
    unit: c.unit,
    severity: c.severity,
    op: c.op,
    threshold: c.threshold,
    for: c.for,
    last_at: old?.last_at ?? nowIso,
    value: old?.value ?? 0,
  };
}

/** Stage "replay": each fresh observation moves the alert ok → pending → firing → ok, emitting as it goes. */
function replay(a: AlertState, fresh: readonly Observation[], maxGapMs: number, nowIso: string, events: Notice[]) {
  for (const o of fresh) {
    const gap = o.at - Date.parse(a.last_at);
    a.value = o.value;
    a.last_at = isoLocal(new Date(o.at));
    if (a.status === "firing") {
      if (o.cleared) {
        events.push(noticeOf(a, "resolved", nowIso));
        a.status = "ok";
        delete a.since;
        delete a.notified_at;
        delete a.acked;
      }
      continue;
    }
    if (!o.breach) {
      a.status = "ok";
      delete a.since;
      continue;
    }
    // Ok, or pending across a gap too long to have been seen holding: the condition starts anew.
    if (a.status === "ok" || gap > maxGapMs) {
      a.status = "pending";
      a.since = isoLocal(new Date(o.since ?? o.at));
    }
    if ((o.at - Date.parse(a.since!)) / 1000 >= a.for) {
      a.status = "firing";
      a.notified_at = nowIso;
      events.push(noticeOf(a, "fired", nowIso));
    }
  }
}

/** Stage "carry over": alerts whose series sent nothing keep their state, unless their rule no longer applies to them. */
function carryUnseen(previous: AlertStates, alerts: AlertStates, stillApplies: AdvanceOptions["stillApplies"]) {
  for (const [key, old] of Object.entries(previous)) {
    if (!Object.hasOwn(alerts, key) && old.status !== "ok" && stillApplies(old)) alerts[key] = { ...old };
  }
}

/** Stage "remind": a firing alert not notified for its repeat interval, and not acknowledged, is reminded of. */
function remind(alerts: AlertStates, now: Date, repeatSeconds: AdvanceOptions["repeatSeconds"], events: Notice[]) {
  const nowIso = isoLocal(now);
  for (const a of Object.values(alerts)) {
    if (a.status !== "firing" || a.acked || !a.notified_at || a.notified_at === nowIso) continue;
    if ((now.getTime() - Date.parse(a.notified_at)) / 1000 >= repeatSeconds(a)) {
      a.notified_at = nowIso;
      events.push(noticeOf(a, "reminded", nowIso));
    }
  }
}

export function advanceAlerts(
  previous: AlertStates,
  conditions: readonly Condition[],
  now: Date,
  options: AdvanceOptions,
): Advance {
  const maxGapMs = options.maxGapSeconds * 1000;
  const nowIso = isoLocal(now);
  const alerts: AlertStates = {};
  const events: Notice[] = [];
  for (const c of conditions) {
    const old = previous[c.key];
    const fresh = freshObservations(old, c, maxGapMs);
    if (fresh.length === 0 && old) {
      // Nothing new: the state stays, judged by the rule as it is now.
      alerts[c.key] = { ...old, severity: c.severity, threshold: c.threshold, op: c.op, for: c.for };
      continue;
    }
    const a = startFrom(old, c, nowIso);
    replay(a, fresh, maxGapMs, nowIso, events);
    alerts[c.key] = a;
  }
  carryUnseen(previous, alerts, options.stillApplies);
  remind(alerts, now, options.repeatSeconds, events);
  return { alerts, events };
}
