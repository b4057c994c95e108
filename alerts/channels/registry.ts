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
      for (const issue of parsed.error.issues) problems.push(describeIssue({ ...issue, path: [...at, ...issue.path] }));
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

/**
 * Opens a channel (reads its secrets). One that cannot be opened (its secret's variable unset, its
 * file unreadable) still takes its notifications: each delivery fails with the reason and is
 * retried next run, so fixing the config delivers them and the other channels are not held back.
 */
function opened(name: string, type: ChannelType, open: () => Channel): { channel: OpenChannel; error?: string } {
  const common = { name, retryable: (err: unknown) => type.retryable(err), everyRun: type.everyRun ?? false };
  try {
    return { channel: { ...common, ...open() } };
  } catch (err) {
    const error = (err as Error).message;
    const deliver = () => Promise.reject(new Error(error));
    return { channel: { ...common, target: `${name} (not opened)`, deliver }, error };
  }
}

export interface OpenedChannels {
  channels: Map<string, OpenChannel>;
  /** The channels that could not be opened, and why. */
  broken: { name: string; error: string }[];
}

/** The e-mail channel and every configured one, opened. */
export function openChannels(
  configured: readonly ConfiguredChannel[],
  emailConfig: EmailConfig,
  context: Omit<ChannelContext, "name">,
): OpenedChannels {
  const all = [
    opened(EMAIL_CHANNEL, email, () => email.open(emailConfig, { ...context, name: EMAIL_CHANNEL })),
    ...configured.map((c) => opened(c.name, c.type, () => c.type.open(c.config, { ...context, name: c.name }))),
  ];
  return {
    channels: new Map(all.map(({ channel }) => [channel.name, channel])),
    broken: all.flatMap(({ channel, error }) => (error ? [{ name: channel.name, error }] : [])),
  };
}
