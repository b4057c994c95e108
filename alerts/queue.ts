import type { Notifier, OutgoingMail } from "./notify.js";

/**
 * The mail queue kept in storage/state/: a mail is removed only once its notifier accepted it, and
 * the queue is saved after every mail, so a failed send is retried next run and a sent one is
 * never sent again.
 */

export interface QueuedMail extends OutgoingMail {
  attempts: number;
  last_error?: string;
}

export interface Delivery {
  sent: { id: string; subject: string; answer: string }[];
  /** The first failure; it and the mails after it stay queued, in order. */
  failed?: { id: string; error: string };
}

export async function deliverQueue(queue: QueuedMail[], notifier: Notifier, save: (queue: QueuedMail[]) => Promise<void>): Promise<Delivery> {
  const delivery: Delivery = { sent: [] };
  let pending = [...queue];
  while (pending.length > 0) {
    const mail = pending[0]!;
    let answer: string;
    try {
      answer = await notifier.send(mail);
    } catch (err) {
      const error = (err as Error).message;
      pending = [{ ...mail, attempts: mail.attempts + 1, last_error: error }, ...pending.slice(1)];
      await save(pending);
      delivery.failed = { id: mail.id, error };
      break;
    }
    pending = pending.slice(1);
    await save(pending);
    delivery.sent.push({ id: mail.id, subject: mail.subject, answer });
  }
  return delivery;
}
