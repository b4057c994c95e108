import path from "node:path";
import type { SendMailOptions, Transporter } from "nodemailer";
import { writeFileAtomic } from "../../lib/atomic-write.js";
import { readSecret } from "../../lib/secret.js";
import { EmailConfig } from "../config.js";
import { renderMail, type MailContent } from "../mail.js";
import type { MailTemplate } from "../template.js";
import type { ChannelType, Notification } from "./channel.js";

/**
 * The e-mail channel, configured by the `email` section: one mail per notification, rendered with
 * the mail template. SMTP sends it; the outbox (no SMTP host configured) writes it as an .eml file
 * so a fresh install shows what it would send. Both build the same MIME message with nodemailer,
 * loaded only when a mail actually goes.
 */

/** A rendered mail; `id` becomes its Message-ID, so a resend is recognisable. */
export interface OutgoingMail extends MailContent {
  id: string;
  created_at: string;
}

export interface Notifier {
  /** "smtp mail.example.org:587" or "outbox /srv/ams/logs/outbox". */
  readonly target: string;
  /** Delivers the mail; resolves to what the server answered or where the file went. */
  send(mail: OutgoingMail): Promise<string>;
}

function message(email: EmailConfig, mail: OutgoingMail): SendMailOptions {
  return {
    messageId: `<${mail.id}@ams>`,
    date: new Date(mail.created_at),
    from: email.from,
    to: email.to.length > 0 ? email.to : undefined,
    subject: mail.subject,
    text: mail.text,
    html: mail.html,
  };
}

/** One transport per process, made on the first mail. */
function lazyTransport(
  make: (nodemailer: typeof import("nodemailer").default) => Transporter,
): () => Promise<Transporter> {
  let transport: Promise<Transporter> | undefined;
  return () => (transport ??= import("nodemailer").then((m) => make(m.default)));
}

/** The SMTP password from the environment variable or the owner-only file the config names. */
export function readPassword(email: EmailConfig, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return readSecret({ key: "email.password", env: email.password_env, file: email.password_file }, { env });
}

export function smtpNotifier(email: EmailConfig, password: string | undefined): Notifier {
  const { host, port } = email;
  const timeout = email.timeout * 1000;
  const transport = lazyTransport((nodemailer) =>
    nodemailer.createTransport({
      host,
      port,
      secure: email.secure,
      requireTLS: !email.secure && email.starttls,
      ignoreTLS: !email.secure && !email.starttls,
      auth: email.user ? { user: email.user, pass: password ?? "" } : undefined,
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
      logger: false,
      debug: false,
    }),
  );
  return {
    target: `smtp ${host}:${port}`,
    async send(mail) {
      const info = await (await transport()).sendMail(message(email, mail));
      return String(info.response);
    },
  };
}

export function outboxNotifier(email: EmailConfig, outbox: string): Notifier {
  const transport = lazyTransport((nodemailer) =>
    nodemailer.createTransport({ streamTransport: true, buffer: true, newline: "unix" }),
  );
  return {
    target: `outbox ${outbox}`,
    async send(mail) {
      const info = await (await transport()).sendMail(message(email, mail));
      // Named after the mail's id (which starts with its time): writing the same queued mail again
      // replaces the file, never adds one.
      const file = path.join(outbox, `${mail.id}.eml`);
      await writeFileAtomic(file, info.message as Buffer);
      return `written to ${file}`;
    },
  };
}

/** SMTP when a host is configured, else the outbox. */
export function notifierFor(email: EmailConfig, outbox: string, env: NodeJS.ProcessEnv = process.env): Notifier {
  return email.host ? smtpNotifier(email, readPassword(email, env)) : outboxNotifier(email, outbox);
}

/**
 * A permanent SMTP answer (5xx) about this very mail: its sender, its recipients or its content
 * (nodemailer's EENVELOPE, EMESSAGE). The same mail sent again gets the same answer. A 5xx at
 * login (a wrong password) is not one: once the config is fixed, the queue goes out as it is.
 */
export function isRefusedForGood(err: unknown): boolean {
  const { responseCode, code } = err as { responseCode?: unknown; code?: unknown };
  return (
    typeof responseCode === "number" &&
    responseCode >= 500 &&
    responseCode < 600 &&
    (code === "EENVELOPE" || code === "EMESSAGE")
  );
}

/** The mail of a notification, rendered when it is sent (a mail queued by an older AMS is already rendered). */
export function mailOf(
  notification: Notification,
  context: { template: MailTemplate; dashboardUrl: string },
): OutgoingMail {
  const content =
    notification.mail ??
    renderMail(context.template, notification.notices, {
      dashboardUrl: context.dashboardUrl,
      now: new Date(notification.created_at),
    });
  return { id: notification.id, created_at: notification.created_at, ...content };
}

/** Opened from the `email` section, not from alerts.channels. */
export const email: ChannelType<typeof EmailConfig> = {
  schema: EmailConfig,
  retryable: (err) => !isRefusedForGood(err),
  open(config, context) {
    const resolved = {
      ...config,
      password_file: config.password_file && path.resolve(context.home, config.password_file),
    };
    const notifier = notifierFor(resolved, context.outbox, context.env);
    return { target: notifier.target, deliver: (n) => notifier.send(mailOf(n, context)) };
  },
};
