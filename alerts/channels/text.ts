import { alertValues } from "../mail.js";
import type { Notice } from "../state.js";

/** The plain-text form of alert events shared by the chat channels, and fitting it into a service's limit. */

/** "FIRING [warning] web-1: CPU 97 % on web-1 (rule cpu_high: > 90 for 10 min)" */
export function noticeLine(n: Notice, dashboardUrl: string): string {
  const v = alertValues(n, dashboardUrl);
  return `${v.event} [${v.severity}] ${v.server}: ${v.message}`;
}

/** "3 alerts, worst critical" */
export function headline(notices: readonly Notice[]): string {
  const worst = notices.some((n) => n.severity === "critical") ? "critical" : "warning";
  return `AMS: ${notices.length} alert${notices.length === 1 ? "" : "s"}, worst ${worst}`;
}

export const codePoints = (s: string) => Array.from(s).length;
export const utf8Bytes = (s: string) => Buffer.byteLength(s, "utf8");

/** The first `limit` units of a string (`measure` adds up per character), cut on a code point, never in a surrogate pair. */
function cut(s: string, limit: number, measure: (s: string) => number): string {
  let out = "";
  let size = 0;
  for (const ch of s) {
    size += measure(ch);
    if (size > limit) break;
    out += ch;
  }
  return out;
}

/**
 * As many whole items as fit in `limit` (measured by `measure`) joined by `separator`, then
 * `more(n)` for the n left out (a line with the dashboard link). A single item longer than the
 * limit is cut. The result never exceeds the limit.
 */
export function fitItems(
  items: readonly string[],
  limit: number,
  more: (left: number) => string,
  options: { separator?: string; measure?: (s: string) => number } = {},
): string {
  const separator = options.separator ?? "\n";
  const measure = options.measure ?? codePoints;
  const sep = measure(separator);
  const sizes = items.map(measure);
  // size(keep) = the first `keep` items, a separator after each, then the "more" line.
  let prefix = sizes.reduce((a, b) => a + b, 0) + sep * Math.max(items.length - 1, 0);
  if (prefix <= limit) return items.join(separator);
  prefix = sizes.reduce((a, b) => a + b, 0) + sep * items.length;
  for (let keep = items.length - 1; keep >= 0; keep--) {
    prefix -= sizes[keep]! + sep;
    const tail = more(items.length - keep);
    if (prefix + measure(tail) <= limit) return [...items.slice(0, keep), tail].join(separator);
  }
  return cut(more(items.length), limit, measure);
}

/** A string cut to `limit` with "…" at the end when it was longer. */
export function ellipsis(s: string, limit: number, measure: (s: string) => number = codePoints): string {
  return measure(s) <= limit ? s : `${cut(s, limit - 1, measure)}…`;
}
