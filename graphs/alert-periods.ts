import type { AlertEvent } from "../storage/alert-history.js";

/** A time an alert was firing on one series, shaded on its charts. */
export interface FiringPeriod {
  rule: string;
  server: string;
  metric: string;
  labels: Record<string, string>;
  from: number;
  to: number;
}

/**
 * The firing periods of the history (oldest first): from each "fired" to the next "resolved" of the
 * same alert. One never resolved lasts until `now` while the alert state still has it firing, and
 * ends at its last event otherwise (its rule or server left the config). A period starts when its
 * condition began.
 */
export function firingPeriods(
  history: readonly AlertEvent[],
  firingKeys: ReadonlySet<string>,
  now: number,
): FiringPeriod[] {
  const open = new Map<string, { event: AlertEvent; last: number }>();
  const periods: FiringPeriod[] = [];
  const close = (event: AlertEvent, to: number) =>
    periods.push({
      rule: event.rule,
      server: event.server_id,
      metric: event.metric_type,
      labels: event.labels ?? {},
      // From when the condition began, as the alert's mail says.
      from: Date.parse(event.since),
      to,
    });
  for (const event of history) {
    const at = Date.parse(event.at);
    const started = open.get(event.key);
    if (event.event === "resolved") {
      if (started) close(started.event, at);
      open.delete(event.key);
    } else if (started) started.last = at;
    else open.set(event.key, { event, last: at });
  }
  for (const [key, { event, last }] of open) close(event, firingKeys.has(key) ? now : last);
  return periods;
}
