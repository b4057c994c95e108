import type { output, ZodType } from "zod";
import type { MailContent } from "../mail.js";
import type { Notice } from "../state.js";
import type { MailTemplate } from "../template.js";

/**
 * One notification channel type per file in this folder, behind this interface (registered in
 * registry.ts): its config schema, how it turns a notification (structured alert events) into what
 * its service expects, and which failures are worth retrying. The queue (alerts/queue.ts) keeps
 * each channel's notifications apart, so one channel down never holds back another.
 */

/** What a channel delivers: the alert events of one run (or, for an every-run channel, every firing alert). */
export interface Notification {
  /** Unique; the mail's Message-ID, a webhook's group key. Starts with its time. */
  id: string;
  /** ISO; a notification says when it was made, not when a retry got it through. */
  created_at: string;
  notices: Notice[];
  /** A mail rendered by an AMS from before channels, found queued in its state: sent as it is. */
  mail?: MailContent;
}

/** What opening a channel may use besides its own config. */
export interface ChannelContext {
  /** The channel's name in alerts.channels (for messages and secret keys: "alerts.channels.<name>"). */
  name: string;
  /** The data home: relative secret files are resolved against it. */
  home: string;
  env: NodeJS.ProcessEnv;
  /** alerts.dashboard_url: server pages and "more" links. */
  dashboardUrl: string;
  template: MailTemplate;
  /** logs/outbox/: the e-mail channel writes there when no SMTP host is set. */
  outbox: string;
}

export interface Channel {
  /** Where it delivers, without any secret: "slack hooks.slack.com", "smtp mail.example.org:587". */
  readonly target: string;
  /** Resolves to what the receiver answered. */
  deliver(notification: Notification): Promise<string>;
}

export interface ChannelType<Schema extends ZodType = ZodType> {
  /** The keys of its entry in alerts.channels, `type` included. */
  schema: Schema;
  /**
   * Sent every firing alert on every run, not only changes (a receiver that expires alerts not
   * re-posted, like Alertmanager); a newer notification replaces a queued one.
   */
  everyRun?: boolean;
  /** False when sending the same notification again would fail the same way: it is set aside, not retried. */
  retryable(err: unknown): boolean;
  /** Reads its secrets and returns the channel; throws ConfigError naming the key at fault. */
  open(config: output<Schema>, context: ChannelContext): Channel;
}
