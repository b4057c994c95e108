import fs from "node:fs";
import path from "node:path";
import { simpleParser, type ParsedMail } from "mailparser";
import { parseConfig } from "../lib/config.js";
import {
  notifierFor,
  outboxNotifier,
  readPassword,
  smtpNotifier,
  type Notifier,
  type OutgoingMail,
  email as emailChannel,
  mailOf,
} from "../alerts/channels/email.js";
import { deliverQueue, type DeliveringChannel, type QueuedNotification } from "../alerts/queue.js";
import { startSmtp, type TestSmtp } from "./support/smtp.js";
import { tempHome } from "./helpers.js";

const mail: OutgoingMail = {
  id: "20261125T120000Z.abc123",
  created_at: "2026-11-25T12:00:00.000+00:00",
  subject: "[AMS] 1 alert, worst critical: FIRING web-1 CPU",
  text: "FIRING web-1 CPU 97 %\n",
  html: "<p>FIRING web-1 &lt;b&gt;</p>\n",
};

/** A queued notification carrying an already rendered mail. */
const queued = (id: string, extra: Partial<OutgoingMail & QueuedNotification> = {}): QueuedNotification => {
  const { subject = mail.subject, attempts = 0, last_error } = extra;
  return {
    id,
    created_at: mail.created_at,
    notices: [],
    mail: { subject, text: mail.text, html: mail.html },
    attempts,
    ...(last_error ? { last_error } : {}),
  };
};

/** The e-mail channel over one notifier, as the queue sees it. */
const channelOf = (notifier: Notifier): DeliveringChannel => ({
  name: "email",
  target: notifier.target,
  deliver: (n) => notifier.send(mailOf(n, { template: undefined as never, dashboardUrl: "http://localhost/" })),
  retryable: emailChannel.retryable,
});

const email = (extra: object = {}) =>
  parseConfig({ email: { from: "AMS <ams@example.org>", to: ["admin@example.org"], ...extra } }, "c.json").email;

let smtp: TestSmtp;
beforeAll(async () => {
  smtp = await startSmtp({ user: "ams", password: "s3cret-pass" });
});
afterAll(() => smtp.close());

/** Both notifiers, each with a way to read back what it delivered. */
const transports: [string, () => { notifier: Notifier; readBack(): Promise<ParsedMail[]> }][] = [
  [
    "smtp",
    () => {
      const before = smtp.received.length;
      const notifier = smtpNotifier(
        email({ host: "127.0.0.1", port: smtp.port, starttls: false, user: "ams", password_env: "X" }),
        "s3cret-pass",
      );
      return { notifier, readBack: async () => smtp.received.slice(before).map((r) => r.mail) };
    },
  ],
  [
    "outbox",
    () => {
      const outbox = path.join(tempHome(), "logs", "outbox");
      return {
        notifier: outboxNotifier(email(), outbox),
        readBack: async () =>
          Promise.all(fs.readdirSync(outbox).map((f) => simpleParser(fs.readFileSync(path.join(outbox, f))))),
      };
    },
  ],
];

describe.each(transports)("%s notifier", (_name, make) => {
  test("delivers subject, text and html parts with the mail's id as Message-ID", async () => {
    const { notifier, readBack } = make();
    const answer = await notifier.send(mail);
    expect(answer).toMatch(/Queued as test|written to .*20261125T120000Z\.abc123\.eml$/);
    const [got, ...more] = await readBack();
    expect(more).toEqual([]);
    expect(got!.subject).toBe(mail.subject);
    expect(got!.text).toBe(mail.text);
    expect(got!.html).toBe(mail.html.trimEnd() + "\n");
    expect(got!.messageId).toBe("<20261125T120000Z.abc123@ams>");
    expect(got!.from!.text).toBe('"AMS" <ams@example.org>');
  });

  test("a queue drained through it sends each mail once", async () => {
    const { notifier, readBack } = make();
    const queue: QueuedNotification[] = [queued("a1"), queued("a2", { attempts: 2, last_error: "earlier" })];
    const saves: QueuedNotification[][] = [];
    const delivery = await deliverQueue(queue, channelOf(notifier), {
      save: async (_c, q) => void saves.push(q),
      setAside: never,
    });
    expect(delivery.sent.map((s) => s.id)).toEqual(["a1", "a2"]);
    expect(saves.map((q) => q.length)).toEqual([1, 0]);
    expect((await readBack()).map((m) => m.messageId).sort()).toEqual(["<a1@ams>", "<a2@ams>"]);
  });
});

const never = async (): Promise<string> => {
  throw new Error("nothing should be set aside here");
};

describe("delivery failures and secrets", () => {
  test("a mail the server refuses for good (5xx) is set aside, and the mails after it still go", async () => {
    const picky = await startSmtp({ refuseSubject: "REFUSE ME" });
    try {
      const notifier = smtpNotifier(
        email({ host: "127.0.0.1", port: picky.port, starttls: false, timeout: 5 }),
        undefined,
      );
      const queue: QueuedNotification[] = [queued("r1", { subject: "REFUSE ME" }), queued("r2")];
      const setAside: QueuedNotification[] = [];
      let saved: QueuedNotification[] = queue;
      const delivery = await deliverQueue(queue, channelOf(notifier), {
        save: async (_c, q) => void (saved = q),
        setAside: async (_c, m) => (setAside.push(m), `kept ${m.id}`),
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
    const queue: QueuedNotification[] = [queued("b1"), queued("b2")];
    let saved: QueuedNotification[] = queue;
    const delivery = await deliverQueue(queue, channelOf(notifier), {
      save: async (_c, q) => void (saved = q),
      setAside: never,
    });
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
    const queue: QueuedNotification[] = [queued("p1")];
    let saved: QueuedNotification[] = [];
    const delivery = await deliverQueue(queue, channelOf(notifier), {
      save: async (_c, q) => void (saved = q),
      setAside: never,
    });
    expect(delivery.rejected).toEqual([]);
    expect(delivery.failed?.error).toMatch(/535|Invalid username or password/);
    expect(saved.map((m) => [m.id, m.attempts])).toEqual([["p1", 1]]);
  });

  test("wrong password: the error does not contain the password", async () => {
    const notifier = smtpNotifier(
      email({ host: "127.0.0.1", port: smtp.port, starttls: false, user: "ams", password_env: "X" }),
      "wrong-pass",
    );
    const error = await notifier.send(mail).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toMatch(/Invalid username or password/);
    expect(error?.message).not.toContain("wrong-pass");
  });

  test("password from env or owner-only file; a group-readable file is refused", () => {
    const home = tempHome();
    const file = path.join(home, "smtp-password");
    fs.writeFileSync(file, "from-file\n", { mode: 0o600 });
    expect(readPassword(email({ user: "ams", password_file: file }))).toBe("from-file");
    fs.chmodSync(file, 0o640);
    expect(() => readPassword(email({ user: "ams", password_file: file }))).toThrow(
      /email.password_file: .* is readable by others \(mode 640\)/,
    );
    expect(readPassword(email({ user: "ams", password_env: "AMS_TEST_PW" }), { AMS_TEST_PW: "from-env" })).toBe(
      "from-env",
    );
    expect(() => readPassword(email({ user: "ams", password_env: "AMS_TEST_PW" }), {})).toThrow(
      "email.password_env: the environment variable AMS_TEST_PW is not set",
    );
    expect(notifierFor(email(), path.join(home, "outbox")).target).toBe(`outbox ${path.join(home, "outbox")}`);
  });
});
