import { createHash } from "node:crypto";

// Longest encoded name kept whole; longer ones are cut and made unique with a hash. Keeps every
// file name well under the 255 bytes Linux allows, with room for a suffix.
const MAX_ENCODED = 160;

/**
 * A file name for any string from data (a server name such as `"><script>` or `../etc`): letters,
 * digits, "_" and "-" stay, every other UTF-8 byte becomes "~XX". The mapping is one-to-one, so
 * two names never share a file; the result has no "/", never starts with "." and needs no
 * escaping in a URL.
 */
export function safeFileName(name: string): string {
  let out = "";
  for (const byte of Buffer.from(name, "utf8")) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9_-]/.test(c) ? c : `~${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  if (out === "") return "~";
  if (out.length <= MAX_ENCODED) return out;
  // "!" never appears in an encoded name, so a shortened name cannot equal a whole one.
  return `${out.slice(0, MAX_ENCODED - 40)}!${createHash("sha256").update(name).digest("hex").slice(0, 32)}`;
}

/**
 * A server's page, relative to public/ (and to `alerts.dashboard_url`): the one place its path is
 * made, for the pages and for the links in alert mails. With a range, that range's page
 * (servers/<name>.<range>.html: "." never occurs in an encoded name, so no server's page collides).
 */
export const serverPage = (server: string, range?: string) =>
  range === undefined ? `servers/${safeFileName(server)}.html` : `servers/${safeFileNameOf([server, range])}.html`;

/** Several parts (a metric and its labels) as one file name; "." cannot occur inside a part. */
export function safeFileNameOf(parts: readonly string[]): string {
  return parts.map(safeFileName).join(".");
}
