import { z } from "zod";
import type { Notice } from "../state.js";
import { alertValues } from "../mail.js";
import type { ChannelType, Notification } from "./channel.js";
import { channelUrl, httpRetryable, oneUrl, postingChannel, urlKeys } from "./http.js";
import { ellipsis, headline } from "./text.js";

/**
 * Discord webhooks: a `content` line (at most 2,000 characters) and one embed per alert. Discord's
 * limits: 10 embeds, a title of 256 and a description of 4,096 characters, 6,000 characters over
 * all embeds. Beyond 10 alerts the last embed links to the dashboard for the rest. Mentions are
 * turned off: a server name must never ping @everyone.
 */

export const schema = z.strictObject({ type: z.literal("discord"), ...urlKeys }).superRefine(oneUrl);

export const LIMITS = { content: 2000, embeds: 10, title: 256, description: 4096, total: 6000 };

const COLORS = { critical: 0xd32f2f, warning: 0xf9a825, resolved: 0x2e7d32 };

interface Embed {
  title: string;
  description: string;
  url?: string;
  color: number;
  timestamp?: string;
}

function embed(n: Notice, dashboardUrl: string, descriptionLimit: number): Embed {
  const v = alertValues(n, dashboardUrl);
  const details = [n.message, v.value && `value ${v.value}, threshold ${v.threshold}`, `since ${v.since}`];
  return {
    title: ellipsis(`${v.event} [${v.severity}] ${v.server} ${v.metric}`, LIMITS.title),
    description: ellipsis(details.filter(Boolean).join("\n"), descriptionLimit),
    url: v.link,
    color: n.event === "resolved" ? COLORS.resolved : COLORS[n.severity],
    timestamp: new Date(n.at).toISOString(),
  };
}

export function render(notification: Notification, dashboardUrl: string) {
  const notices = notification.notices;
  const shown = notices.length > LIMITS.embeds ? notices.slice(0, LIMITS.embeds - 1) : notices;
  // The 6,000-character budget shared fairly: each embed's title is at most 256.
  const perEmbed = Math.floor(LIMITS.total / (shown.length + 1)) - LIMITS.title;
  const embeds = shown.map((n) => embed(n, dashboardUrl, Math.min(LIMITS.description, perEmbed)));
  if (shown.length < notices.length) {
    embeds.push({
      title: `…and ${notices.length - shown.length} more`,
      description: "See the dashboard.",
      url: dashboardUrl,
      color: COLORS.warning,
    });
  }
  return {
    content: ellipsis(headline(notices), LIMITS.content),
    embeds,
    allowed_mentions: { parse: [] as string[] },
  };
}

export const discord: ChannelType<typeof schema> = {
  schema,
  retryable: httpRetryable,
  open: (config, context) =>
    postingChannel("discord", channelUrl(context, config), config.timeout, (n) => render(n, context.dashboardUrl)),
};
