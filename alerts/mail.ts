import { isoLocal } from "../lib/time.js";
import { formatValue } from "../storage/format-value.js";
import { SILENT_METRIC } from "./rules.js";
import type { Notice } from "./state.js";
import { escapeHtml } from "../lib/escape-html.js";
import { serverPage } from "../graphs/file-names.js";
import { fill, type ALERT_PLACEHOLDERS, type MailTemplate } from "./template.js";

/** One mail for every alert that started, was reminded or ended in a run (pure). */

export interface MailContent {
  subject: string;
  text: string;
  html: string;
}

const EVENT_WORDS: Record<Notice["event"], string> = {
  fired: "FIRING",
  reminded: "STILL FIRING",
  resolved: "RESOLVED",
};
/** How many alerts the subject names before "+N more". */
const SUBJECT_NAMES = 3;

function withUnit(value: number | undefined, unit: string): string {
  return value === undefined ? "" : formatValue(value, unit);
}

function metricName(n: Notice): string {
  if (n.metric_type === SILENT_METRIC) return "no samples";
  return [n.metric_type, ...Object.values(n.labels ?? {})].join(" ");
}

export function serverLink(dashboardUrl: string, server: string): string {
  return new URL(serverPage(server), dashboardUrl).href;
}

/** A notice's own link (a CERT advisory's page, taken from a feed or a remote copy) only when it is http(s): never javascript: in an href. */
function ownLink(link: string | undefined): string | undefined {
  if (link === undefined) return undefined;
  try {
    const url = new URL(link);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/** What a mail (and every other channel) shows of one alert event. */
export type AlertValues = Record<(typeof ALERT_PLACEHOLDERS)[number], string>;

export function alertValues(n: Notice, dashboardUrl: string): AlertValues {
  return {
    event: EVENT_WORDS[n.event],
    server: n.server_id,
    metric: metricName(n),
    value: withUnit(n.value, n.unit),
    threshold: n.threshold === undefined ? "" : `${n.op} ${withUnit(n.threshold, n.unit)}`,
    severity: n.severity,
    since: n.since,
    link: ownLink(n.link) ?? serverLink(dashboardUrl, n.server_id),
    message: n.message,
    rule: n.rule,
  };
}

export function renderMail(
  template: MailTemplate,
  notices: readonly Notice[],
  options: { dashboardUrl: string; now: Date },
): MailContent {
  const items = notices.map((n) => alertValues(n, options.dashboardUrl));
  const severity = notices.some((n) => n.severity === "critical") ? "critical" : "warning";
  // Named once each: a mount past both disk rules is one thing to read in the subject, not two.
  const names = [...new Set(items.map((i) => `${i.event} ${i.server} ${i.metric}`))];
  const summary =
    names.length > SUBJECT_NAMES
      ? `${names.slice(0, SUBJECT_NAMES).join(", ")}, +${names.length - SUBJECT_NAMES} more`
      : names.join(", ");
  const mail = {
    count: String(notices.length),
    count_text: `${notices.length} alert${notices.length === 1 ? "" : "s"}`,
    severity,
    summary,
    link: options.dashboardUrl,
    generated: isoLocal(options.now),
  };
  const text = items.map((i) => fill(template["text-item"], i)).join("\n");
  const html = items.map((i) => fill(template["html-item"], i, escapeHtml)).join("\n");
  return {
    // Header injection: a value with a line break must not start a new header.
    subject: fill(template.subject, mail).replace(/[\r\n]+/g, " "),
    text: fill(template.text, { ...mail, alerts: text }) + "\n",
    html: fill(template.html, { ...mail, alerts: html }, escapeHtml, ["alerts"]) + "\n",
  };
}
