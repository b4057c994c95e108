import fs from "node:fs";
import path from "node:path";
import nodemailer, { type SendMailOptions } from "nodemailer";
import { writeFileAtomic } from "../lib/atomic-write.js";
import { ConfigError } from "../lib/config.js";
import type { EmailConfig } from "./config.js";
import type { MailContent } from "./mail.js";

/**
 * Stage 3 of the alert pipeline: a mail leaves through one Notifier. SMTP sends it; the outbox
 * (no SMTP host configured) writes it as an .eml file so a fresh install shows what it would send.
 * Both build the same MIME message with nodemailer.
 */

/** A rendered mail waiting in the queue; `id` becomes its Message-ID, so a resend is recognisable. */
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

/** The SMTP password from the environment variable or the owner-only file the config names. */
export function readPassword(email: EmailConfig, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (email.password_env) {
    const password = env[email.password_env];
    if (!password)
      throw new ConfigError(`email.password_env: the environment variable ${email.password_env} is not set`);
    return password;
  }
  if (email.password_file) {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(email.password_file);
    } catch (err) {
      throw new ConfigError(`email.password_file: cannot read ${email.password_file}: ${(err as Error).message}`);
    }
    if ((stat.mode & 0o077) !== 0) {
      throw new ConfigError(
        `email.password_file: ${email.password_file} is readable by others (mode ${(stat.mode & 0o777).toString(8)}); chmod 600 it`,
      );
    }
    return fs.readFileSync(email.password_file, "utf8").replace(/\r?\n$/, "");
  }
  return undefined;
}

export function smtpNotifier(email: EmailConfig, password: string | undefined): Notifier {
  const { host, port } = email;
  const timeout = email.timeout * 1000;
  const transport = nodemailer.createTransport({
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
  });
  return {
    target: `smtp ${host}:${port}`,
    async send(mail) {
      const info = await transport.sendMail(message(email, mail));
      return info.response;
    },
  };
}

export function outboxNotifier(email: EmailConfig, outbox: string): Notifier {
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: "unix" });
  return {
    target: `outbox ${outbox}`,
    async send(mail) {
      const info = await transport.sendMail(message(email, mail));
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
