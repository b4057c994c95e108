import fs from "node:fs";
import path from "node:path";
import { simpleParser } from "mailparser";
import { enqueue, type Queues } from "../alerts/queue.js";
import type { Notice } from "../alerts/state.js";
import { amsPaths } from "../lib/paths.js";
import { runCli, tempHome, writeConfig } from "./helpers.js";

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
