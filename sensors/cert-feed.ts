import { XMLParser, XMLValidator } from "fast-xml-parser";
import type { Advisory } from "../storage/advisory.js";

const parser = new XMLParser({
  ignoreAttributes: true,
  htmlEntities: true,
  parseTagValue: false,
  trimValues: true,
  isArray: (name) => name === "item",
});

const text = (value: unknown) => (typeof value === "string" ? value : typeof value === "number" ? String(value) : "");

/** The advisories of an RSS 2.0 document; throws, saying what is wrong, on anything else. */
export function parseCertFeed(xml: string): Advisory[] {
  // eslint-disable-next-line @typescript-eslint/no-deprecated -- its successor, fast-xml-validator, is a package of its own
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new Error(`malformed XML: ${valid.err.msg} (line ${valid.err.line})`);
  const doc = parser.parse(xml) as { rss?: { channel?: { item?: unknown[] } } } | undefined;
  const channel = doc?.rss?.channel;
  if (!channel) throw new Error("not an RSS feed (no rss/channel element)");
  const items = channel.item ?? [];
  return items.map((raw, index) => {
    const item = raw as Record<string, unknown>;
    const title = text(item.title);
    const link = text(item.link) || text(item.guid);
    const date = new Date(text(item.pubDate));
    if (!title || !link || Number.isNaN(date.getTime())) {
      throw new Error(`item ${index + 1}: missing title, link or a valid pubDate`);
    }
    const id = /CERTFR-\d{4}-[A-Z]+-\d+/.exec(link)?.[0];
    return { title, link, published: date.toISOString(), ...(id ? { id } : {}) };
  });
}

/** "alerte" for .../alerte/feed/, "avis" for .../avis/feed/, "all" for the site-wide feed. */
export function feedName(url: string): string {
  const parts = new URL(url).pathname.split("/").filter(Boolean);
  return parts.length >= 2 && parts.at(-1) === "feed" ? parts.at(-2)! : "all";
}
