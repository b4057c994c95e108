import { deliverQueue, type QueuedMail } from "../alerts/queue.js";
import { smtpNotifier } from "../alerts/notify.js";
import { email, mail } from "./support/outgoing-mail.js";
import { startSmtp, type TestSmtp } from "./support/smtp.js";

let smtp: TestSmtp;
beforeAll(async () => {
  smtp = await startSmtp({ user: "ams", password: "s3cret-pass" });
});
afterAll(() => smtp.close());

const never = async (): Promise<string> => {
  throw new Error("nothing should be set aside here");
};

describe("deliverQueue", () => {
  test("a queue drained through a real SMTP server sends each mail once, saving the queue after each", async () => {
    const before = smtp.received.length;
    const notifier = smtpNotifier(
      email({ host: "127.0.0.1", port: smtp.port, starttls: false, user: "ams", password_env: "X" }),
      "s3cret-pass",
    );
    const queue: QueuedMail[] = [
      { ...mail, id: "a1", attempts: 0 },
      { ...mail, id: "a2", attempts: 2, last_error: "earlier" },
    ];
    const saves: QueuedMail[][] = [];
    const delivery = await deliverQueue(queue, notifier, { save: async (q) => void saves.push(q), setAside: never });
    expect(delivery.sent.map((s) => s.id)).toEqual(["a1", "a2"]);
    expect(saves.map((q) => q.length)).toEqual([1, 0]);
    expect(
      smtp.received
        .slice(before)
        .map((r) => r.mail.messageId)
        .sort(),
    ).toEqual(["<a1@ams>", "<a2@ams>"]);
  });

  test("a mail the server refuses for good (5xx) is set aside, and the mails after it still go", async () => {
    const picky = await startSmtp({ refuseSubject: "REFUSE ME" });
    try {
      const notifier = smtpNotifier(
        email({ host: "127.0.0.1", port: picky.port, starttls: false, timeout: 5 }),
        undefined,
      );
      const queue: QueuedMail[] = [
        { ...mail, id: "r1", subject: "REFUSE ME", attempts: 0 },
        { ...mail, id: "r2", attempts: 0 },
      ];
      const setAside: QueuedMail[] = [];
      let saved: QueuedMail[] = queue;
      const delivery = await deliverQueue(queue, notifier, {
        save: async (q) => void (saved = q),
        setAside: async (m) => (setAside.push(m), `kept ${m.id}`),
      });
      expect(delivery.rejected.map((r) => [r.id, r.savedAs])).toEqual([["r1", "kept r1"]]);
      expect(delivery.rejected[0]!.error).toMatch(/554/);
      expect(setAside.map((m) => [m.id, m.attempts])).toEqual([["r1", 1]]);
      expect(delivery.sent.map((s) => s.id)).toEqual(["r2"]);
      expect(delivery.failed).toBeUndefined();
      expect(saved).toEqual([]);
      expect(picky.received).toHaveLength(1);
    } finally {
      await picky.close();
    }
  });

  test("a refused SMTP server keeps the mail and those after it queued, in order", async () => {
    const down = await startSmtp();
    const port = down.port;
    await down.close();
    const notifier = smtpNotifier(email({ host: "127.0.0.1", port, starttls: false, timeout: 5 }), undefined);
    const queue: QueuedMail[] = [
      { ...mail, id: "b1", attempts: 0 },
      { ...mail, id: "b2", attempts: 0 },
    ];
    let saved: QueuedMail[] = queue;
    const delivery = await deliverQueue(queue, notifier, { save: async (q) => void (saved = q), setAside: never });
    expect(delivery.sent).toEqual([]);
    expect(delivery.failed?.error).toMatch(/ECONNREFUSED|connect/);
    expect(saved.map((m) => [m.id, m.attempts])).toEqual([
      ["b1", 1],
      ["b2", 0],
    ]);
  });

  test("a refused login (535) is not a refusal of the mail: it stays queued for when the password is fixed", async () => {
    const notifier = smtpNotifier(
      email({ host: "127.0.0.1", port: smtp.port, starttls: false, user: "ams", password_env: "X" }),
      "wrong-pass",
    );
    const queue: QueuedMail[] = [{ ...mail, id: "p1", attempts: 0 }];
    let saved: QueuedMail[] = [];
    const delivery = await deliverQueue(queue, notifier, { save: async (q) => void (saved = q), setAside: never });
    expect(delivery.rejected).toEqual([]);
    expect(delivery.failed?.error).toMatch(/535|Invalid username or password/);
    expect(saved.map((m) => [m.id, m.attempts])).toEqual([["p1", 1]]);
  });
});
