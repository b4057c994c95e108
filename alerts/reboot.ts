import { isoLocal } from "../lib/time.js";
import { REBOOT_METRIC } from "../sensors/catalogue.js";
import type { Sample } from "../storage/sample.js";
import type { Notice } from "./state.js";

/**
 * Reboots (alerts.reboot_notices, pure): each Reboot event the uptime sensor stored is mailed once,
 * as a notice rather than an alert, since there is nothing to resolve. As for CERT advisories, the
 * first run learns what is stored without mailing it.
 */

export const REBOOT_RULE = "rebooted";
const SEEN_LIMIT = 500;

const bootOf = (s: Sample) => (typeof s.details?.boot_time === "string" ? s.details.boot_time : s.timestamp);
const keyOf = (s: Sample) => `${REBOOT_RULE}/${s.server_id}@${bootOf(s)}`;
const isReboot = (s: Sample) => s.metric_type === REBOOT_METRIC && !Number.isNaN(Date.parse(bootOf(s)));

/** The reboot a sample reports ("rebooted/web-1@<boot time>"); undefined for any other sample. */
export const rebootKey = (s: Sample) => (isReboot(s) ? keyOf(s) : undefined);

/** "2026-11-25 03:12" in this machine's local time. */
const localMinute = (iso: string) => isoLocal(new Date(iso)).slice(0, 16).replace("T", " ");

export function rebootNotices(
  samples: readonly Sample[],
  seen: readonly string[] | undefined,
  now: Date,
): { notices: Notice[]; seen: string[] | undefined } {
  const reboots = samples.filter(isReboot).sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp));
  if (seen === undefined) {
    if (reboots.length === 0) return { notices: [], seen: [] };
    return { notices: [], seen: [...new Set(reboots.map(keyOf))].slice(-SEEN_LIMIT) };
  }
  const known = new Set(seen);
  const notices: Notice[] = [];
  for (const s of reboots) {
    const key = keyOf(s);
    if (known.has(key)) continue;
    known.add(key);
    notices.push({
      key,
      rule: REBOOT_RULE,
      server_id: s.server_id,
      metric_type: s.metric_type,
      severity: "warning",
      event: "fired",
      at: isoLocal(now),
      since: isoLocal(new Date(bootOf(s))),
      message: `${s.server_id} rebooted at ${localMinute(bootOf(s))}`,
      unit: "",
      op: "",
    });
  }
  return { notices, seen: [...known].slice(-SEEN_LIMIT) };
}
