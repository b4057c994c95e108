import type { Notifier, OutgoingMail } from "./notify.js";

/**
 * The mail queue kept in storage/state/: a mail is removed only once its notifier accepted it, and
 * the queue is saved after every mail, so a failed send is retried next run and a sent one is
 * never sent again. A mail the server refuses for good (SMTP 5xx) would be refused on every retry
 * and hold back every later alert: it is set aside as a file instead, and reported.
 */

export interface QueuedMail extends OutgoingMail {
  attempts: number;
  last_error?: string;
}

export interface Delivery {
  sent: { id: string; subject: string; answer: string }[];
  /** Refused for good by the server, set aside (where it went is `savedAs`), no longer queued. */
  rejected: { id: string; subject: string; error: string; savedAs: string }[];
  /** The first failure that may pass (server down, timeout); it and the mails after it stay queued, in order. */
  failed?: { id: string; error: string };
}

export interface QueueIo {
  /** Persists what is still queued. */
  save(queue: QueuedMail[]): Promise<void>;
  /** Keeps a refused mail somewhere an admin finds it; resolves to where. */
  setAside(mail: QueuedMail): Promise<string>;
}

/**
 * A permanent SMTP answer (5xx) about this very mail: its sender, its recipients or its content
 * (nodemailer's EENVELOPE, EMESSAGE). The same mail sent again gets the same answer. A 5xx at
 * login (a wrong password) is not one: once the config is fixed, the queue goes out as it is.
 */
const isRefusedForGood = (err: unknown) => {
  const { responseCode, code } = err as { responseCode?: unknown; code?: unknown };
  return (
    typeof responseCode === "number" &&
    responseCode >= 500 &&
    responseCode < 600 &&
    (code === "EENVELOPE" || code === "EMESSAGE")
  );
};

export async function deliverQueue(queue: QueuedMail[], notifier: Notifier, io: QueueIo): Promise<Delivery> {
  const delivery: Delivery = { sent: [], rejected: [] };
  let pending = [...queue];
  while (pending.length > 0) {
    const mail = pending[0]!;
    let answer: string;
    try {
      answer = await notifier.send(mail);
    } catch (err) {
      const error = (err as Error).message;
      if (isRefusedForGood(err)) {
        const savedAs = await io.setAside({ ...mail, attempts: mail.attempts + 1, last_error: error });
        pending = pending.slice(1);
        await io.save(pending);
        delivery.rejected.push({ id: mail.id, subject: mail.subject, error, savedAs });
        continue;
      }
      pending = [{ ...mail, attempts: mail.attempts + 1, last_error: error }, ...pending.slice(1)];
      await io.save(pending);
      delivery.failed = { id: mail.id, error };
      break;
    }
    pending = pending.slice(1);
    await io.save(pending);
    delivery.sent.push({ id: mail.id, subject: mail.subject, answer });
  }
  return delivery;
}
