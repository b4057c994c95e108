import fs from "node:fs";
import path from "node:path";
import { simpleParser } from "mailparser";
import { parseConfig } from "../config/ams-config.js";
import { amsPaths } from "../lib/paths.js";
import { isoLocal } from "../lib/time.js";
import type { Sample } from "../storage/sample.js";
import { writePullStatus } from "../storage/pull-status.js";
import { appendSamples } from "../storage/store.js";
import { readAlertHistory } from "../storage/alert-history.js";
import { currentInterval } from "../alerts/maintenance.js";
import { matchesAll, parseMatcher, type Matcher } from "../alerts/matchers.js";
import { channelsFor, repeatFor } from "../alerts/routes.js";
import { runCli, tempHome, writeConfig } from "./helpers.js";

// Silences, maintenance windows and acknowledgements, end to end through the built ams-alert with
// mails in the outbox; time moves through AMS_NOW.
const T0 = new Date("2026-11-25T12:00:00Z").getTime();
const MIN = 60_000;
const at = (minute: number) => new Date(T0 + minute * MIN);

const sample = (server: string, metric: string, minute: number, value: number): Sample => ({
  server_id: server,
  metric_type: metric,
  timestamp: isoLocal(at(minute)),
  value,
  unit: "%",
});

function home(alerts: object = {}): string {
  const h = tempHome();
  writeConfig(h, { server_id: "web-1", alerts });
  return h;
}

const ams = (h: string, minute: number, args: string[] = ["check"]) =>
  runCli("ams-alert", ["--home", h, ...args], { env: { AMS_NOW: at(minute).toISOString(), USER: "alice" } });

async function check(h: string, minute: number) {
  const run = await ams(h, minute);
  expect([minute, run.exitCode, run.stderr]).toEqual([minute, 0, ""]);
}

/** The subjects of the mails written so far, oldest first. */
async function mails(h: string): Promise<string[]> {
  const outbox = amsPaths(h).outbox;
  if (!fs.existsSync(outbox)) return [];
  const files = fs
    .readdirSync(outbox)
    .filter((f) => f.endsWith(".eml"))
    .sort();
  return Promise.all(files.map(async (f) => (await simpleParser(fs.readFileSync(path.join(outbox, f)))).subject ?? ""));
}

const cpu = (h: string, from: number, to: number, value: number, server = "web-1") =>
  appendSamples(
    amsPaths(h).store,
    Array.from({ length: (to - from) / 5 + 1 }, (_, i) => sample(server, "CPU", from + i * 5, value)),
  );

async function silence(h: string, minute: number, args: string[]): Promise<string> {
  const run = await ams(h, minute, ["silence", "add", ...args]);
  expect([run.exitCode, run.stderr]).toEqual([0, ""]);
  return run.stdout.trim();
}

const FIRING_CPU = "[AMS] 1 alert, worst warning: FIRING web-1 CPU";

describe("silences", () => {
  test("an alert firing through a silence is tracked, not mailed; still firing when it ends: one mail then", async () => {
    const h = home();
    const id = await silence(h, 0, [
      "--match",
      "server=web-1",
      "--match",
      "rule=cpu_high",
      "--for",
      "1h",
      "--comment",
      "kernel upgrade",
    ]);
    expect(id).toMatch(/^[0-9a-f]{8}$/);
    const listed = await ams(h, 1, ["silence", "list"]);
    expect(listed.stdout).toMatch(
      new RegExp(`^${id}  active   until \\S+  server=web-1 rule=cpu_high  by alice: kernel upgrade$`),
    );
    for (const m of [10, 30, 55]) {
      await cpu(h, m - 10, m, 97);
      await check(h, m);
    }
    expect(await mails(h)).toEqual([]);
    expect((await ams(h, 55, ["list"])).stdout).toMatch(
      new RegExp(`^firing  warning  cpu_high/web-1 .*\\[silenced\\]\nsilence ${id}  active   until `),
    );
    const { events } = await readAlertHistory(amsPaths(h).alertsLog);
    expect(events.map((e) => [e.event, e.key, e.silenced])).toEqual([["fired", "cpu_high/web-1", true]]);
    await cpu(h, 60, 65, 97);
    await check(h, 65);
    expect(await mails(h)).toEqual([FIRING_CPU]);
    await cpu(h, 70, 70, 97);
    await check(h, 70);
    expect(await mails(h)).toEqual([FIRING_CPU]);
    expect((await ams(h, 70, ["list"])).stdout).not.toContain("silenced");
    expect((await ams(h, 70, ["silence", "list"])).stdout).toMatch(/^\S+  expired  until/);
  }, 60_000);

  test("--dry-run says which alerts a silence would hold", async () => {
    const h = home();
    await silence(h, 0, ["--match", "rule=cpu_high", "--for", "1h", "--comment", "tuning"]);
    await cpu(h, 0, 10, 97);
    await appendSamples(amsPaths(h).store, [sample("web-1", "RAM", 5, 95), sample("web-1", "RAM", 10, 95)]);
    const dry = await ams(h, 10, ["check", "--dry-run"]);
    expect(dry.stdout.split("\n").sort()).toEqual([
      "FIRED [warning] cpu_high/web-1: CPU 97 % on web-1 (rule cpu_high: > 90 for 10 min) (silenced)",
      "FIRED [warning] ram_high/web-1: RAM 95 % on web-1 (rule ram_high: > 90 for 5 min)",
    ]);
    expect(await mails(h)).toEqual([]);
  }, 60_000);

  test("resolved during the silence: nothing, then or after", async () => {
    const h = home();
    await silence(h, 0, ["--match", "rule=~cpu_.*", "--until", at(60).toISOString(), "--comment", "load test"]);
    await cpu(h, 0, 10, 97);
    await check(h, 10);
    await cpu(h, 15, 20, 10);
    await check(h, 20);
    await cpu(h, 65, 70, 10);
    await check(h, 70);
    expect(await mails(h)).toEqual([]);
  }, 60_000);

  test("only matching alerts are silenced; expire ends a silence at once", async () => {
    const h = home();
    const id = await silence(h, 0, ["--match", "server=~db-.*", "--for", "2h", "--comment", "db work"]);
    await cpu(h, 0, 10, 97);
    await cpu(h, 0, 10, 97, "db-1");
    await check(h, 10);
    expect(await mails(h)).toEqual([FIRING_CPU]);
    const expired = await ams(h, 15, ["silence", "expire", id]);
    expect([expired.exitCode, expired.stdout]).toEqual([0, `silence ${id} expired`]);
    await cpu(h, 15, 15, 97);
    await cpu(h, 15, 15, 97, "db-1");
    await check(h, 15);
    expect(await mails(h)).toEqual([FIRING_CPU, "[AMS] 1 alert, worst warning: FIRING db-1 CPU"]);
  }, 60_000);

  test("usage errors: no end, no comment, a bad matcher, an unknown id (exit 2, nothing stored)", async () => {
    const h = home();
    const errors = [
      [
        ["silence", "add", "--match", "server=web-1", "--comment", "x"],
        /give its end, with --for DURATION or --until TIME/,
      ],
      [["silence", "add", "--match", "server=web-1", "--for", "2h"], /--comment is required/],
      [
        ["silence", "add", "--match", "server=~(web", "--for", "2h", "--comment", "x"],
        /--match server=~\(web: not a valid regex/,
      ],
      [["silence", "add", "--match", "web-1", "--for", "2h", "--comment", "x"], /expected NAME=VALUE or NAME=~REGEX/],
      [["silence", "add", "--match", "server=web-1", "--for", "soon", "--comment", "x"], /--for: expected a duration/],
      [
        ["silence", "add", "--match", "server=web-1", "--for", "400d", "--comment", "x"],
        /--for: expected more than 0s and at most 366d, got "400d"/,
      ],
      [
        ["silence", "add", "--match", "server=web-1", "--until", at(60 * 24 * 400).toISOString(), "--comment", "x"],
        /is more than 366d away/,
      ],
      [
        ["silence", "add", "--match", "server=web-1", "--until", at(-5).toISOString(), "--comment", "x"],
        /is not in the future/,
      ],
      [["silence", "expire", "nope"], /no silence "nope"/],
      [["ack", "cpu_high/web-1"], /no firing alert "cpu_high\/web-1"/],
    ] as const;
    for (const [args, message] of errors) {
      const run = await ams(h, 0, [...args]);
      expect([args, run.exitCode]).toEqual([args, 2]);
      expect(run.stderr).toMatch(message);
    }
    expect((await ams(h, 0, ["silence", "list"])).stdout).toBe("no silence");
  }, 60_000);
});

describe("ack", () => {
  test("an acknowledged alert sends no reminder; its resolution is still mailed", async () => {
    const h = home();
    await cpu(h, 0, 10, 97);
    await check(h, 10);
    const ack = await ams(h, 20, ["ack", "cpu_high/web-1", "--comment", "on it"]);
    expect([ack.exitCode, ack.stdout]).toEqual([0, "acknowledged cpu_high/web-1"]);
    expect((await ams(h, 20, ["list"])).stdout).toContain("[acked by alice]");
    await cpu(h, 15, 300, 97);
    await check(h, 300);
    expect(await mails(h)).toEqual([FIRING_CPU]);
    await cpu(h, 305, 305, 10);
    await check(h, 305);
    expect(await mails(h)).toEqual([FIRING_CPU, "[AMS] 1 alert, worst warning: RESOLVED web-1 CPU"]);
  }, 60_000);
});

describe("maintenance windows", () => {
  // A planned reboot: web-1 sends nothing from minute 10 to 60, inside a window of 10 → 70.
  async function reboot(alerts: object) {
    const h = home({ ...alerts, dashboard_url: "https://ams.example.org/" });
    await cpu(h, 0, 10, 10);
    for (let m = 15; m <= 90; m += 5) {
      if (m >= 60) await cpu(h, m, m, 10);
      await check(h, m);
    }
    return { mails: await mails(h), events: (await readAlertHistory(amsPaths(h).alertsLog)).events };
  }

  test("a window across a reboot-like gap: no mail, no server_silent event (without it: both)", async () => {
    const window = {
      name: "kernel upgrade",
      match: { server: "web-1" },
      schedule: { start: isoLocal(at(10)), end: isoLocal(at(70)) },
    };
    const planned = await reboot({ maintenance: [window] });
    expect(planned).toEqual({ mails: [], events: [] });
    const unplanned = await reboot({});
    expect(unplanned.mails).toEqual([
      "[AMS] 1 alert, worst critical: FIRING web-1 no samples",
      "[AMS] 1 alert, worst critical: RESOLVED web-1 no samples",
    ]);
    expect(unplanned.events.map((e) => [e.rule, e.event])).toEqual([
      ["server_silent", "fired"],
      ["server_silent", "resolved"],
    ]);
  }, 120_000);

  test("a remote that never reported, in a window: no server_silent for it (without the window: fired)", async () => {
    const run = async (alerts: object) => {
      const h = tempHome();
      writeConfig(h, {
        server_id: "web-1",
        remotes: [{ name: "db-1", host: "db-1.example.org", user: "ams" }],
        alerts,
      });
      await cpu(h, 0, 30, 10);
      // Pulled since minute 0, never with success: counted silent from then (storage/pull-status.ts).
      await writePullStatus(amsPaths(h), {
        "db-1": {
          first_attempt: isoLocal(at(0)),
          last_attempt: isoLocal(at(25)),
          last_error: "refused",
          duration_seconds: 1,
        },
      });
      await check(h, 30);
      return (await readAlertHistory(amsPaths(h).alertsLog)).events.map((e) => [e.rule, e.server_id, e.event]);
    };
    const window = {
      name: "db-1 install",
      match: { server: "db-1" },
      schedule: { start: isoLocal(at(0)), end: isoLocal(at(60)) },
    };
    expect(await run({ maintenance: [window] })).toEqual([]);
    expect(await run({})).toEqual([["server_silent", "db-1", "fired"]]);
  });

  test("a recurring window, Sunday 03:00 Europe/Paris for 1 h, follows the clock change (croner)", () => {
    const [w] = parseConfig(
      {
        alerts: {
          maintenance: [
            { name: "sunday", match: {}, schedule: { cron: "0 3 * * 0", duration: "1h", timezone: "Europe/Paris" } },
          ],
        },
      },
      "c.json",
    ).alerts.maintenance;
    const on = (iso: string) => currentInterval(w!, new Date(iso))?.start.toISOString();
    // Winter time (UTC+1): 03:00 in Paris is 02:00 UTC.
    expect(on("2026-03-22T02:00:00Z")).toBe("2026-03-22T02:00:00.000Z");
    expect(on("2026-03-22T02:59:59Z")).toBe("2026-03-22T02:00:00.000Z");
    expect(on("2026-03-22T03:00:00Z")).toBeUndefined();
    expect(on("2026-03-22T01:30:00Z")).toBeUndefined();
    // Summer time from 29 March (UTC+2): 03:00 in Paris is 01:00 UTC.
    expect(on("2026-03-29T01:30:00Z")).toBe("2026-03-29T01:00:00.000Z");
    expect(on("2026-03-29T02:30:00Z")).toBeUndefined();
    // Back to winter time on 25 October.
    expect(on("2026-10-18T01:30:00Z")).toBe("2026-10-18T01:00:00.000Z");
    expect(on("2026-10-25T01:30:00Z")).toBeUndefined();
    expect(on("2026-10-25T02:30:00Z")).toBe("2026-10-25T02:00:00.000Z");
    // Not on a Monday.
    expect(on("2026-10-26T02:30:00Z")).toBeUndefined();
  });

  test("a recurring window silences the alerts it matches only while it lasts", async () => {
    // 2026-11-29 is a Sunday; 03:00 in Paris is 02:00 UTC.
    const h = tempHome();
    writeConfig(h, {
      server_id: "web-1",
      alerts: {
        maintenance: [
          {
            name: "backups",
            match: { rule: "cpu_high" },
            schedule: { cron: "0 3 * * 0", duration: "1h", timezone: "Europe/Paris" },
          },
        ],
      },
    });
    const sunday = (minute: number) => new Date(Date.parse("2026-11-29T02:00:00Z") + minute * MIN);
    const run = (minute: number) =>
      runCli("ams-alert", ["--home", h, "check"], { env: { AMS_NOW: sunday(minute).toISOString() } });
    const cpuAt = (minute: number) =>
      appendSamples(amsPaths(h).store, [
        { server_id: "web-1", metric_type: "CPU", timestamp: isoLocal(sunday(minute)), value: 97, unit: "%" },
      ]);
    for (const m of [0, 5, 10, 55]) {
      await cpuAt(m);
      expect((await run(m)).exitCode).toBe(0);
    }
    expect(await mails(h)).toEqual([]);
    await cpuAt(60);
    expect((await run(60)).exitCode).toBe(0);
    expect(await mails(h)).toEqual([FIRING_CPU]);
  }, 60_000);

  test("a cron expression croner cannot read is reported with its key", async () => {
    const h = home({
      maintenance: [{ name: "x", match: {}, schedule: { cron: "0 3 * * funday", duration: "1h" } }],
    });
    const run = await ams(h, 0);
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toMatch(/alerts\.maintenance\.0\.schedule\.cron: /);
  });
});

describe("routes and matchers (pure)", () => {
  const routes = parseConfig(
    {
      alerts: {
        channels: { am: { type: "alertmanager", url: "http://127.0.0.1:9093" }, chat: { type: "slack", url_env: "X" } },
        routes: [
          { match: { severity: "critical" }, channels: ["am", "chat"], continue: true, repeat: "1h" },
          { match: { server: { regex: "db-[0-9]+" } }, channels: ["chat"] },
          { match: { labels: { mount: "/srv" } }, channels: ["am"], repeat: "30m" },
        ],
      },
    },
    "c.json",
  ).alerts.routes;
  const alert = (server: string, severity: string, labels?: Record<string, string>) => ({
    server_id: server,
    rule: "r",
    severity,
    labels,
  });

  test("routes in order; continue goes on; the e-mail is the last route", () => {
    expect(channelsFor(alert("web-1", "warning"), [])).toEqual(["email"]);
    expect(channelsFor(alert("web-1", "warning"), routes)).toEqual(["email"]);
    expect(channelsFor(alert("web-1", "critical"), routes)).toEqual(["am", "chat", "email"]);
    expect(channelsFor(alert("db-1", "warning"), routes)).toEqual(["chat"]);
    expect(channelsFor(alert("db-1", "critical"), routes)).toEqual(["am", "chat"]);
    expect(channelsFor(alert("db-1x", "warning"), routes)).toEqual(["email"]);
    expect(channelsFor(alert("web-1", "warning", { mount: "/srv" }), routes)).toEqual(["am"]);
  });

  test("repeat: the first matching route that sets it, else alerts.repeat", () => {
    expect(repeatFor(alert("web-1", "warning"), routes, 14400)).toBe(14400);
    expect(repeatFor(alert("web-1", "critical", { mount: "/srv" }), routes, 14400)).toBe(3600);
    expect(repeatFor(alert("web-1", "warning", { mount: "/srv" }), routes, 14400)).toBe(1800);
  });

  test("matchers: equality and anchored regex on server, rule, severity and labels", () => {
    const m = (...texts: string[]) => texts.map((t) => parseMatcher(t) as Matcher);
    const subject = { server_id: "web-12", rule: "disk_warning", severity: "warning", labels: { mount: "/srv" } };
    expect(matchesAll(m("server=web-12", "rule=disk_warning", "mount=/srv"), subject)).toBe(true);
    expect(matchesAll(m("server=~web-[0-9]+", "severity=~warn.*"), subject)).toBe(true);
    expect(matchesAll(m("server=~web"), subject)).toBe(false);
    expect(matchesAll(m("mount=/"), subject)).toBe(false);
    expect(matchesAll(m("server=web-12", "severity=critical"), subject)).toBe(false);
    expect(matchesAll([], subject)).toBe(true);
  });

  test("config errors: a bad regex, a window ending before it starts, an unknown time zone", () => {
    const error = (alerts: object) => {
      try {
        parseConfig({ alerts }, "c.json");
        return "";
      } catch (err) {
        return (err as Error).message;
      }
    };
    expect(error({ routes: [{ match: { server: { regex: "(" } }, channels: ["email"] }] })).toMatch(
      /alerts\.routes\.0\.match\.server/,
    );
    expect(
      error({
        maintenance: [{ name: "x", schedule: { start: "2026-11-25T12:00:00Z", end: "2026-11-25T11:00:00Z" } }],
      }),
    ).toMatch(/alerts\.maintenance\.0\.schedule/);
    expect(
      error({
        maintenance: [{ name: "x", schedule: { cron: "0 3 * * 0", duration: "1h", timezone: "Mars/Olympus" } }],
      }),
    ).toMatch(/alerts\.maintenance\.0\.schedule/);
  });
});
