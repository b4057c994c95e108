import { randomBytes } from "node:crypto";
import { isoLocal } from "../lib/time.js";
import { matchesAll, matcherText, type Matcher, type MatchSubject } from "./matchers.js";
import { noticeOf, type AlertStates, type Notice } from "./state.js";

/**
 * Silences (Alertmanager's model: matchers, a mandatory end, an author and a comment), made with
 * `ams-alert silence add` and kept with the alert state; and the "mute" stage of the pipeline
 * (pure), which holds back the notifications of alerts a silence or a maintenance window covers.
 * A silenced alert is still evaluated and tracked. If it still fires when the silence ends, one
 * notification goes out then; if it resolved meanwhile, nothing does.
 */

export interface Silence {
  id: string;
  matchers: Matcher[];
  starts_at: string;
  ends_at: string;
  created_by: string;
  comment: string;
}

/** Ended silences stay listed this long (as Alertmanager keeps expired ones), then go. */
const KEEP_ENDED_MS = 5 * 86_400_000;

export function silenceActive(s: Silence, now: Date): boolean {
  return Date.parse(s.starts_at) <= now.getTime() && now.getTime() < Date.parse(s.ends_at);
}

export function newSilence(input: Omit<Silence, "id" | "starts_at">, now: Date): Silence {
  return { id: randomBytes(4).toString("hex"), starts_at: isoLocal(now), ...input };
}

/** The silences still worth keeping: active ones and those ended recently. */
export function keptSilences(silences: readonly Silence[], now: Date): Silence[] {
  return silences.filter((s) => Date.parse(s.ends_at) > now.getTime() - KEEP_ENDED_MS);
}

export function describeSilence(s: Silence, now: Date): string {
  const state = silenceActive(s, now) ? "active " : "expired";
  return `${s.id}  ${state}  until ${s.ends_at}  ${s.matchers.map(matcherText).join(" ")}  by ${s.created_by}: ${s.comment}`;
}

/** What covers an alert now (a silence id, a maintenance window's name); undefined when nothing does. */
export type Muter = (subject: MatchSubject) => string | undefined;

export function silenceMuter(silences: readonly Silence[], now: Date): Muter {
  const active = silences.filter((s) => silenceActive(s, now));
  return (subject) => active.find((s) => matchesAll(s.matchers, subject))?.id;
}

export interface Muted {
  alerts: AlertStates;
  /** Every event of the run, those held back marked `silenced` (the history keeps them). */
  recorded: Notice[];
  /** What is notified. */
  notify: Notice[];
}

export function muteSilenced(alerts: AlertStates, events: readonly Notice[], muter: Muter, now: Date): Muted {
  const nowIso = isoLocal(now);
  const recorded: Muted["recorded"] = [];
  const notify: Notice[] = [];
  for (const e of events) {
    const a = alerts[e.key];
    const unannounced = a?.unannounced;
    if (e.event === "resolved" && a) delete a.unannounced;
    // A resolution of a fire nobody was told about is news to nobody.
    const muted = muter(e) !== undefined || (e.event === "resolved" && unannounced);
    if (!muted) {
      recorded.push(e);
      notify.push(e);
      continue;
    }
    recorded.push({ ...e, silenced: true });
    if (e.event === "fired" && a) a.unannounced = true;
  }
  for (const a of Object.values(alerts)) {
    const muted = a.status === "firing" && muter(a) !== undefined;
    if (muted) a.silenced = true;
    else delete a.silenced;
    if (!muted && a.status === "firing" && a.unannounced) {
      // The silence ended on an alert that still fires: told once, now.
      delete a.unannounced;
      a.notified_at = nowIso;
      notify.push(noticeOf(a, "fired", nowIso));
    }
  }
  return { alerts, recorded, notify };
}
