const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

// Characters XML 1.0 forbids (C0 controls but tab/LF/CR, lone surrogates, U+FFFE/FFFF): an SVG
// holding one would not parse, so they are dropped from anything that reaches a page or a chart.
const NOT_XML =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Whether a text may hold a character NOT_XML removes: a quicker test than NOT_XML itself, for text that has none. */
const MAYBE_NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uD800-\uDFFF\uFFFE\uFFFF]/;
const HTML_SPECIAL = /[&<>"']/;

/** Text safe in XML and HTML text (before escaping): forbidden characters removed. */
export function xmlSafeText(value: string): string {
  return MAYBE_NOT_XML.test(value) ? value.replace(NOT_XML, "") : value;
}

/**
 * The one escaping helper for HTML text and (double- or single-quoted) attribute values: every
 * string that comes from data (server names, process names, CERT titles, remote files) goes through
 * it, on the pages and in the alert mails alike.
 */
export function escapeHtml(value: unknown): string {
  // Any value may reach a page through html``: each is shown the way String() shows it.
  // eslint-disable-next-line @typescript-eslint/no-base-to-string
  const text = xmlSafeText(String(value ?? ""));
  return HTML_SPECIAL.test(text) ? text.replace(/[&<>"']/g, (c) => ENTITIES[c]!) : text;
}
