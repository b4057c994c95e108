/** One CERT-FR advisory, as its RSS feed lists it and as a CERT sample's details keep it. */
export interface Advisory {
  title: string;
  link: string;
  /** ISO 8601 (UTC) from the item's pubDate. */
  published: string;
  /** CERTFR-2025-AVI-0337, taken from the link. */
  id?: string;
}

const idNumber = (id?: string) => Number(id?.split("-").at(-1) ?? -1);

/**
 * Newest first. The feeds are not reliably ordered, so "latest" means the newest pubDate, then
 * the highest CERTFR number: never the first item.
 */
export function compareAdvisories(
  a: Pick<Advisory, "published" | "id">,
  b: Pick<Advisory, "published" | "id">,
): number {
  return b.published.localeCompare(a.published) || idNumber(b.id) - idNumber(a.id);
}
