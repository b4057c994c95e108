import { z } from "zod";
import { EnvName } from "../config.js";
import type { Notice } from "../state.js";
import type { ChannelType, Notification } from "./channel.js";
import { channelSecret, channelUrl, httpRetryable, notBoth, oneUrl, postingChannel, urlKeys } from "./http.js";
import { fitItems, headline, noticeLine, utf8Bytes } from "./text.js";

/**
 * ntfy: the topic URL in the config (https://ntfy.sh/my-topic); published as JSON to the server's
 * root with `topic`, `title`, `message`, `priority` (5 for critical, 4 for warning, 3 once
 * everything resolved), `tags` and `click` (the dashboard). ntfy turns a message over 4,096 bytes
 * into an attachment: longer reports keep the alerts that fit and link to the dashboard. An access
 * token, when the topic needs one, comes from token_env or token_file.
 */

export const schema = z
  .strictObject({
    type: z.literal("ntfy"),
    ...urlKeys,
    token_env: EnvName.optional(),
    token_file: z.string().min(1).optional(),
  })
  .superRefine(oneUrl)
  .refine(...notBoth("token"));

export const MESSAGE_BYTES = 4096;

function priority(notices: readonly Notice[]): number {
  const open = notices.filter((n) => n.event !== "resolved");
  if (open.some((n) => n.severity === "critical")) return 5;
  return open.length > 0 ? 4 : 3;
}

export function render(notification: Notification, topic: string, dashboardUrl: string) {
  const notices = notification.notices;
  const more = (left: number) => `…and ${left} more: ${dashboardUrl}`;
  return {
    topic,
    title: headline(notices),
    message: fitItems(
      notices.map((n) => noticeLine(n, dashboardUrl)),
      MESSAGE_BYTES,
      more,
      { measure: utf8Bytes },
    ),
    priority: priority(notices),
    tags: [notices.every((n) => n.event === "resolved") ? "white_check_mark" : "warning"],
    click: dashboardUrl,
  };
}

export const ntfy: ChannelType<typeof schema> = {
  schema,
  retryable: httpRetryable,
  open(config, context) {
    const topicUrl = channelUrl(context, config);
    const parts = topicUrl.pathname.split("/");
    const topic = decodeURIComponent(parts.pop() ?? "");
    const root = new URL(`${parts.join("/")}/`, topicUrl);
    const token = channelSecret(context, "token", { env: config.token_env, file: config.token_file });
    const headers = token ? { Authorization: `Bearer ${token}` } : undefined;
    return postingChannel(
      "ntfy",
      root,
      config.timeout,
      (n) => render(n, topic, context.dashboardUrl),
      () => headers,
    );
  },
};
