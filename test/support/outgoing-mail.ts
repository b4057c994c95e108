import type { OutgoingMail } from "../../alerts/channels/email.js";
import { parseConfig } from "../../config/ams-config.js";

/** One alert mail as the queue holds it, with HTML to escape. */
export const mail: OutgoingMail = {
  id: "20261125T120000Z.abc123",
  created_at: "2026-11-25T12:00:00.000+00:00",
  subject: "[AMS] 1 alert, worst critical: FIRING web-1 CPU",
  text: "FIRING web-1 CPU 97 %\n",
  html: "<p>FIRING web-1 &lt;b&gt;</p>\n",
};

/** The `email` config section: a sender and a recipient, plus `extra` keys. */
export const email = (extra: object = {}) =>
  parseConfig({ email: { from: "AMS <ams@example.org>", to: ["admin@example.org"], ...extra } }, "c.json").email;
