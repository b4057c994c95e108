import { ConfigError, describeIssue } from "../../lib/config.js";
import { EMAIL_CHANNEL, type AlertsConfig, type EmailConfig } from "../config.js";
import type { DeliveringChannel } from "../queue.js";
import { alertmanager } from "./alertmanager.js";
import type { Channel, ChannelContext, ChannelType } from "./channel.js";
import { discord } from "./discord.js";
import { email } from "./email.js";
import { ntfy } from "./ntfy.js";
import { slack } from "./slack.js";
import { telegram } from "./telegram.js";
import { webhook } from "./webhook.js";

/** The channel types alerts.channels may name: adding one is a file in this folder and a line here. */
export const CHANNEL_TYPES: Record<string, ChannelType> = {
  webhook,
  slack,
  discord,
  telegram,
  ntfy,
  alertmanager,
};

export interface ConfiguredChannel {
  name: string;
  type: ChannelType;
  config: unknown;
}

/** Every entry of alerts.channels checked against its type's schema; ConfigError naming the key at fault. */
export function configuredChannels(alerts: AlertsConfig, source: string): ConfiguredChannel[] {
  const problems: string[] = [];
  const channels: ConfiguredChannel[] = [];
  for (const [name, entry] of Object.entries(alerts.channels)) {
    const where = `alerts.channels.${name}`;
    const type = Object.hasOwn(CHANNEL_TYPES, entry.type) ? CHANNEL_TYPES[entry.type] : undefined;
    if (!type) {
      problems.push(
        `${where}.type: unknown channel type ${JSON.stringify(entry.type)} (known: ${Object.keys(CHANNEL_TYPES).join(", ")})`,
      );
      continue;
    }
    const parsed = type.schema.safeParse(entry);
    if (!parsed.success) {
      const at = ["alerts", "channels", name];
      problems.push(...parsed.error.issues.map((issue) => describeIssue({ ...issue, path: [...at, ...issue.path] })));
      continue;
    }
    channels.push({ name, type, config: parsed.data });
  }
  if (problems.length > 0) throw new ConfigError(`${source}: ${problems.join("; ")}`);
  return channels;
}

/** A channel ready to deliver, with what the queue needs to know of its type. */
export interface OpenChannel extends DeliveringChannel {
  everyRun: boolean;
}

function opened(name: string, type: ChannelType, channel: Channel): OpenChannel {
  return { name, ...channel, retryable: type.retryable, everyRun: type.everyRun ?? false };
}

/** The e-mail channel and every configured one, opened (secrets read). */
export function openChannels(
  configured: readonly ConfiguredChannel[],
  emailConfig: EmailConfig,
  context: Omit<ChannelContext, "name">,
): Map<string, OpenChannel> {
  const open = new Map<string, OpenChannel>();
  open.set(
    EMAIL_CHANNEL,
    opened(EMAIL_CHANNEL, email as ChannelType, email.open(emailConfig, { ...context, name: EMAIL_CHANNEL })),
  );
  for (const c of configured)
    open.set(c.name, opened(c.name, c.type, c.type.open(c.config, { ...context, name: c.name })));
  return open;
}
