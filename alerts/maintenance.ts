import { Cron } from "croner";
import { ConfigError } from "../lib/config.js";
import type { AlertsConfig, MaintenanceWindow } from "./config.js";
import { matchesAll } from "./matchers.js";
import type { Muter } from "./silences.js";

/**
 * Maintenance windows (alerts.maintenance): one interval, or a recurring one whose starts are a
 * cron expression in a named time zone, computed by croner (daylight-saving changes included).
 * During a window its alerts behave as silenced, and the silent rule does not judge its servers at
 * all: a planned reboot is not a crisis.
 */

type Recurring = Extract<MaintenanceWindow["schedule"], { cron: string }>;

function cronOf(s: Recurring): Cron {
  return new Cron(s.cron, { timezone: s.timezone, paused: true });
}

/** ConfigError naming alerts.maintenance.<i>.schedule.cron when croner cannot read it. */
export function checkMaintenance(alerts: AlertsConfig, source: string): void {
  const problems = alerts.maintenance.flatMap((w, i) => {
    if (!("cron" in w.schedule)) return [];
    try {
      cronOf(w.schedule);
      return [];
    } catch (err) {
      return [`alerts.maintenance.${i}.schedule.cron: ${(err as Error).message}`];
    }
  });
  if (problems.length > 0) throw new ConfigError(`${source}: ${problems.join("; ")}`);
}

/** The window's current interval when `now` falls in one (start included, end excluded). */
export function currentInterval(w: MaintenanceWindow, now: Date): { start: Date; end: Date } | undefined {
  const s = w.schedule;
  if ("start" in s) {
    const start = new Date(s.start);
    const end = new Date(s.end);
    return start <= now && now < end ? { start, end } : undefined;
  }
  // The first start after (now - duration): the window is on when that start is not after now.
  const start = cronOf(s).nextRun(new Date(now.getTime() - s.duration * 1000));
  if (!start || start > now) return undefined;
  return { start, end: new Date(start.getTime() + s.duration * 1000) };
}

export function maintenanceMuter(windows: readonly MaintenanceWindow[], now: Date): Muter {
  const active = windows.filter((w) => currentInterval(w, now));
  return (subject) => active.find((w) => matchesAll(w.match, subject))?.name;
}
