import type { Notice } from "./state.js";
import type { Channel, Notification } from "./channels/channel.js";

/**
 * The notification queue kept with the alert state, one list per channel: a notification is
 * removed only once its channel accepted it, and the queue is saved after every delivery, so a
 * failure is retried next run and a delivered one is never sent again. Channels deliver on their
 * own: one down never holds back another. A notification its receiver refuses for good (an SMTP
 * 5xx about the mail, an HTTP 4xx) would be refused on every retry and hold back every later one:
 * it is set aside as a file instead, and reported.
 */

export interface QueuedNotification extends Notification {
  attempts: number;
  last_error?: string;
}

/** Channel name → its notifications, oldest first. */
export type Queues = Record<string, QueuedNotification[]>;

export interface Delivery {
  channel: string;
  target: string;
  sent: { id: string; answer: string }[];
  /** Refused for good, set aside (where it went is `savedAs`), no longer queued. */
  rejected: { id: string; error: string; savedAs: string }[];
  /** The first failure that may pass (receiver down, timeout); it and the ones after it stay queued, in order. */
  failed?: { id: string; error: string };
}

export interface QueueIo {
  /** Persists what is still queued for a channel. */
  save(channel: string, queue: QueuedNotification[]): Promise<void>;
  /** Keeps a refused notification somewhere an admin finds it; resolves to where. */
  setAside(channel: string, notification: QueuedNotification): Promise<string>;
}

export interface DeliveringChannel extends Channel {
  name: string;
  retryable(err: unknown): boolean;
}

/** Adds this run's notices to each channel's queue. An every-run channel's new snapshot replaces its queued one, keeping the resolutions it has not sent. */
export function enqueue(
  queues: Queues,
  routed: ReadonlyMap<string, { notices: Notice[]; everyRun: boolean }>,
  stamp: { id: () => string; created_at: string },
): Queues {
  const next: Queues = { ...queues };
  for (const [channel, { notices, everyRun }] of routed) {
    const queued = next[channel] ?? [];
    if (everyRun) {
      const fresh = new Set(notices.map((n) => n.key));
      const unsent = queued.flatMap((q) => q.notices).filter((n) => n.event === "resolved" && !fresh.has(n.key));
      const all = [...unsent, ...notices];
      next[channel] =
        all.length > 0 ? [{ id: stamp.id(), created_at: stamp.created_at, notices: all, attempts: 0 }] : [];
    } else if (notices.length > 0) {
      next[channel] = [...queued, { id: stamp.id(), created_at: stamp.created_at, notices, attempts: 0 }];
    }
  }
  return next;
}

export async function deliverQueue(
  queue: readonly QueuedNotification[],
  channel: DeliveringChannel,
  io: QueueIo,
): Promise<Delivery> {
  const delivery: Delivery = { channel: channel.name, target: channel.target, sent: [], rejected: [] };
  let pending = [...queue];
  while (pending.length > 0) {
    const notification = pending[0]!;
    let answer: string;
    try {
      answer = await channel.deliver(notification);
    } catch (err) {
      const error = (err as Error).message;
      const tried = { ...notification, attempts: notification.attempts + 1, last_error: error };
      if (!channel.retryable(err)) {
        const savedAs = await io.setAside(channel.name, tried);
        pending = pending.slice(1);
        await io.save(channel.name, pending);
        delivery.rejected.push({ id: notification.id, error, savedAs });
        continue;
      }
      pending = [tried, ...pending.slice(1)];
      await io.save(channel.name, pending);
      delivery.failed = { id: notification.id, error };
      break;
    }
    pending = pending.slice(1);
    await io.save(channel.name, pending);
    delivery.sent.push({ id: notification.id, answer });
  }
  return delivery;
}

/** Every channel's queue at once, each on its own. */
export function deliverAll(
  queues: Queues,
  channels: ReadonlyMap<string, DeliveringChannel>,
  io: QueueIo,
): Promise<Delivery[]> {
  return Promise.all(
    Object.entries(queues)
      .filter(([name, queue]) => queue.length > 0 && channels.has(name))
      .map(([name, queue]) => deliverQueue(queue, channels.get(name)!, io)),
  );
}
