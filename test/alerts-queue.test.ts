import fs from "node:fs";
import path from "node:path";
import { simpleParser } from "mailparser";
import { email as emailChannel, mailOf, smtpNotifier, type Notifier } from "../alerts/channels/email.js";
import {
  deliverQueue,
  enqueue,
  type DeliveringChannel,
  type QueuedNotification,
  type Queues,
} from "../alerts/queue.js";
import type { Notice } from "../alerts/state.js";
import { amsPaths } from "../lib/paths.js";
import { runCli, tempHome, writeConfig } from "./helpers.js";
import { email, mail } from "./support/outgoing-mail.js";
import { startSmtp, type TestSmtp } from "./support/smtp.js";

const notice = (key: string, event: Notice["event"]): Notice => ({
  key,
  rule: "cpu_high",
  server_id: key,
  metric_type: "CPU",
  severity: "warning",
  event,
  at: "2026-11-25T12:00:00.000+00:00",
  since: "2026-11-25T11:50:00.000+00:00",
  message: `${event} ${key}`,
  unit: "%",
  op: ">",
});

let n = 0;
const stamp = { id: () => `id${++n}`, created_at: "2026-11-25T12:00:00.000+00:00" };
const keysOf = (q: Queues, channel: string) => q[channel]!.map((x) => x.notices.map((m) => `${m.event} ${m.key}`));

describe("enqueue", () => {
  test("a channel for changes keeps every notification, in order; none is added for nothing", () => {
    let q: Queues = {};
    q = enqueue(q, new Map([["chat", { notices: [notice("a", "fired")], everyRun: false }]]), stamp);
    q = enqueue(q, new Map([["chat", { notices: [], everyRun: false }]]), stamp);
    q = enqueue(q, new Map([["chat", { notices: [notice("a", "resolved")], everyRun: false }]]), stamp);
    expect(keysOf(q, "chat")).toEqual([["fired a"], ["resolved a"]]);
  });

  test("an every-run channel down for a while: each run's snapshot replaces the queued one, unsent resolutions stay", () => {
    let q: Queues = {};
    const run = (notices: Notice[]) => (q = enqueue(q, new Map([["am", { notices, everyRun: true }]]), stamp));
    run([notice("a", "fired"), notice("b", "fired")]);
    run([notice("a", "reminded"), notice("b", "resolved")]);
    run([notice("a", "reminded")]);
    expect(keysOf(q, "am")).toEqual([["resolved b", "reminded a"]]);
    // b fires again: its new state replaces the resolution not yet sent.
    run([notice("a", "reminded"), notice("b", "fired")]);
    expect(keysOf(q, "am")).toEqual([["reminded a", "fired b"]]);
    run([]);
    expect(q.am).toEqual([]);
  });
});

let smtp: TestSmtp;
beforeAll(async () => {
  smtp = await startSmtp({ user: "ams", password: "s3cret-pass" });
});
afterAll(() => smtp.close());

/** A queued e-mail notification carrying an already rendered mail. */
const queued = (
  id: string,
  extra: { subject?: string; attempts?: number; last_error?: string } = {},
): QueuedNotification => {
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
    const queue: QueuedNotification[] = [queued("a1"), queued("a2", { attempts: 2, last_error: "earlier" })];
    const saves: QueuedNotification[][] = [];
    const delivery = await deliverQueue(queue, channelOf(notifier), {
      save: async (_c, q) => void saves.push(q),
      setAside: never,
    });
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
});

test("a mail queued by an AMS from before channels (a list of rendered mails) is still delivered, as it was", async () => {
  const home = tempHome();
  writeConfig(home, { server_id: "web-1" });
  const stateDir = amsPaths(home).stateDir;
  fs.mkdirSync(stateDir, { recursive: true });
  fs.writeFileSync(
    path.join(stateDir, "alerts.json"),
    JSON.stringify({
      alerts: {},
      queue: [
        {
          id: "20261125T120000Z.0123456789ab",
          created_at: "2026-11-25T12:00:00.000+00:00",
          subject: "[AMS] 1 alert, worst warning: FIRING web-1 CPU",
          text: "queued before the upgrade\n",
          html: "<p>queued before the upgrade</p>\n",
          attempts: 3,
          last_error: "connect ECONNREFUSED",
        },
      ],
    }),
  );
  const list = await runCli("ams-alert", ["--home", home, "list"]);
  expect(list.stdout).toContain(
    'queued  email 20261125T120000Z.0123456789ab: mail "[AMS] 1 alert, worst warning: FIRING web-1 CPU" (3 failed attempt(s): connect ECONNREFUSED)',
  );
  const run = await runCli("ams-alert", ["--home", home, "check"], { env: { AMS_NOW: "2026-11-25T12:05:00Z" } });
  expect([run.exitCode, run.stderr]).toEqual([0, ""]);
  const file = path.join(amsPaths(home).outbox, "20261125T120000Z.0123456789ab.eml");
  const mail = await simpleParser(fs.readFileSync(file));
  expect([mail.subject, mail.text, mail.messageId]).toEqual([
    "[AMS] 1 alert, worst warning: FIRING web-1 CPU",
    "queued before the upgrade\n",
    "<20261125T120000Z.0123456789ab@ams>",
  ]);
  expect((await runCli("ams-alert", ["--home", home, "list"])).stdout).not.toContain("queued");
});
