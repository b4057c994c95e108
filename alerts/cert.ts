import { isoLocal } from "../lib/time.js";
import type { Sample } from "../storage/sample.js";
import type { Notice } from "./state.js";

/**
 * New CERT advisories (alerts.cert_advisories, pure): each advisory is mailed once, whichever
 * server of the fleet stored it. The first run with the option on and an advisory stored takes what
 * is stored as known, so switching it on (or a fresh install's first feed) does not mail the whole feed.
 */

export const CERT_RULE = "cert_advisory";
/** How many advisory links are remembered; far more than the feeds list within the store's retention. */
const SEEN_LIMIT = 2000;

export interface CertResult {
  notices: Notice[];
  /**
   * Links already mailed (or known when the option was switched on), oldest first; undefined until
   * the store holds an advisory to learn from.
   */
  seen: string[] | undefined;
}

/** The advisory's link, which identifies it; undefined for any other sample. */
export const advisoryLink = (s: Sample) =>
  s.metric_type === "CERT" && typeof s.details?.link === "string" ? s.details.link : undefined;

export function certNotices(samples: readonly Sample[], seen: readonly string[] | undefined, now: Date): CertResult {
  const advisories = samples
    .filter((s) => advisoryLink(s) !== undefined)
    .sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp));
  if (seen === undefined) {
    // Nothing stored yet (the CERT sensor has not run): learn from its first batch, rather than mail the whole feed then.
    if (advisories.length === 0) return { notices: [], seen: undefined };
    return { notices: [], seen: [...new Set(advisories.map((s) => s.details!.link as string))].slice(-SEEN_LIMIT) };
  }
  const known = new Set(seen);
  const notices: Notice[] = [];
  for (const s of advisories) {
    const link = s.details!.link as string;
    if (known.has(link)) continue;
    known.add(link);
    const title = typeof s.details?.title === "string" ? s.details.title : link;
    const published =
      typeof s.details?.published === "string" && !Number.isNaN(Date.parse(s.details.published))
        ? s.details.published
        : s.timestamp;
    notices.push({
      key: `${CERT_RULE}/${link}`,
      rule: CERT_RULE,
      server_id: s.server_id,
      metric_type: "CERT",
      // CERT-FR "alerte" items are actively exploited vulnerabilities; "avis" items are advisories.
      severity: s.details?.feed === "alerte" ? "critical" : "warning",
      event: "fired",
      at: isoLocal(now),
      since: isoLocal(new Date(published)),
      message: `new CERT advisory: ${title}`,
      link,
      unit: "",
      op: "",
    });
  }
  return { notices, seen: [...known].slice(-SEEN_LIMIT) };
}
