import { isoLocal } from "../lib/time.js";

/**
 * `make` of a time in milliseconds, made once per time: the charts of a run write the same sample
 * times many times (every range, CSV and hover titles).
 */
function madeOnce(make: (t: number) => string): (t: number) => string {
  const made = new Map<number, string>();
  return (t) => {
    let text = made.get(t);
    if (text === undefined) {
      if (made.size >= TEXTS_KEPT) made.clear();
      made.set(t, (text = make(t)));
    }
    return text;
  };
}
const TEXTS_KEPT = 100_000;

/** isoLocal of a time in milliseconds. */
export const isoLocalAt = madeOnce((t) => isoLocal(new Date(t)));

const minuteText = madeOnce((t) => isoLocalAt(t).slice(0, 16).replace("T", " "));

/** "2026-11-25 14:02" in this machine's local time; the page says which zone once (zoneNote). */
export function localTime(at: string | Date | number): string {
  const t = typeof at === "number" ? at : new Date(at).getTime();
  return Number.isNaN(t) ? String(at) : minuteText(t);
}

/** "14:02", for notes such as "collecting since 14:02" (the date when not today). */
export function shortTime(at: number, now: number): string {
  const text = localTime(at);
  return text.slice(0, 10) === localTime(now).slice(0, 10) ? text.slice(11) : text;
}

let zone: string | undefined;

/** This machine's time zone, which every local time of the pages, charts and CSV is in (asked once: it is slow to ask). */
export const timeZone = (): string => (zone ??= Intl.DateTimeFormat().resolvedOptions().timeZone);

/** "Europe/Paris (UTC+01:00)": the zone every time of the page is in. */
export function zoneNote(at: Date): string {
  const offset = isoLocal(at).slice(-6);
  const name = timeZone();
  return name && name !== "UTC" ? `${name} (UTC${offset})` : `UTC${offset === "+00:00" ? "" : offset}`;
}
