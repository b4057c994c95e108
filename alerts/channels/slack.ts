import { z } from "zod";
import type { ChannelType, Notification } from "./channel.js";
import { channelUrl, httpRetryable, oneUrl, postingChannel, urlKeys } from "./http.js";
import { fitItems, headline, noticeLine } from "./text.js";
import { alertValues } from "../mail.js";

/**
 * Slack incoming webhooks (also accepted by Mattermost and Rocket.Chat): `{ "text": ... }` in
 * mrkdwn, where &, < and > must be escaped and links are <url|label>. Slack advises at most 4,000
 * characters of text; longer reports keep the alerts that fit and link to the dashboard.
 */

export const schema = z.strictObject({ type: z.literal("slack"), ...urlKeys }).superRefine(oneUrl);

export const TEXT_LIMIT = 4000;

const mrkdwn = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export function render(notification: Notification, dashboardUrl: string): { text: string } {
  const items = notification.notices.map(
    (n) => `${mrkdwn(noticeLine(n, dashboardUrl))} <${alertValues(n, dashboardUrl).link}|details>`,
  );
  const title = `*${mrkdwn(headline(notification.notices))}*`;
  const more = (left: number) => `…and ${left} more: <${dashboardUrl}|dashboard>`;
  return { text: fitItems([title, ...items], TEXT_LIMIT, more) };
}

export const slack: ChannelType<typeof schema> = {
  schema,
  retryable: httpRetryable,
  open: (config, context) =>
    postingChannel("slack", channelUrl(context, config), config.timeout, (n) => render(n, context.dashboardUrl)),
};
