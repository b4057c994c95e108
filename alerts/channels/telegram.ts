import { z } from "zod";
import { EnvName } from "../config.js";
import { ConfigError } from "../../lib/config.js";
import type { ChannelType, Notification } from "./channel.js";
import { channelSecret, httpRetryable, postingChannel } from "./http.js";
import { durationUpTo } from "../../lib/duration.js";
import { alertValues } from "../mail.js";
import { fitItems, headline, noticeLine } from "./text.js";

/**
 * Telegram's Bot API sendMessage: plain text (no parse mode, so nothing in a value can break the
 * markup), at most 4,096 characters; longer reports keep the alerts that fit and link to the
 * dashboard. The bot token is a secret: bot_token_env or bot_token_file.
 */

export const schema = z
  .strictObject({
    type: z.literal("telegram"),
    chat_id: z.union([z.string().min(1), z.number().int()]),
    bot_token_env: EnvName.optional(),
    bot_token_file: z.string().min(1).optional(),
    /** Another Bot API server (a local one). */
    api_url: z.url({ protocol: /^https?$/ }).default("https://api.telegram.org"),
    timeout: durationUpTo(600, { above: true }).default(10),
  })
  .refine((c) => [c.bot_token_env, c.bot_token_file].filter(Boolean).length === 1, {
    path: ["bot_token_env"],
    message: "set exactly one of bot_token_env, bot_token_file",
  });

export const TEXT_LIMIT = 4096;

export function render(notification: Notification, chatId: string | number, dashboardUrl: string) {
  const items = notification.notices.map((n) => `${noticeLine(n, dashboardUrl)}\n${alertValues(n, dashboardUrl).link}`);
  const more = (left: number) => `…and ${left} more: ${dashboardUrl}`;
  return {
    chat_id: chatId,
    text: fitItems([headline(notification.notices), ...items], TEXT_LIMIT, more, { separator: "\n\n" }),
    link_preview_options: { is_disabled: true },
  };
}

export const telegram: ChannelType<typeof schema> = {
  schema,
  retryable: httpRetryable,
  open(config, context) {
    const token = channelSecret(context, "bot_token", { env: config.bot_token_env, file: config.bot_token_file })!;
    if (!/^[0-9]+:[A-Za-z0-9_-]+$/.test(token))
      throw new ConfigError(`alerts.channels.${context.name}.bot_token: not a Telegram bot token (digits:letters)`);
    const url = new URL(`./bot${token}/sendMessage`, config.api_url.replace(/\/?$/, "/"));
    return postingChannel("telegram", url, config.timeout, (n) => render(n, config.chat_id, context.dashboardUrl));
  },
};
