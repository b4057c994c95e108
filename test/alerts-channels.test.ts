import { createHmac } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { amsPaths } from "../lib/paths.js";
import { isoLocal } from "../lib/time.js";
import type { Sample } from "../storage/sample.js";
import { appendSamples } from "../storage/store.js";
import type { Notification } from "../alerts/channels/channel.js";
import * as discord from "../alerts/channels/discord.js";
import * as ntfy from "../alerts/channels/ntfy.js";
import * as slack from "../alerts/channels/slack.js";
import * as telegram from "../alerts/channels/telegram.js";
import * as webhook from "../alerts/channels/webhook.js";
import { httpRetryable, HttpError, postJson } from "../alerts/channels/http.js";
import type { Notice } from "../alerts/state.js";
import { runCli, tempHome, writeConfig } from "./helpers.js";
import { startReceiver, type Received, type TestReceiver } from "./support/http-receiver.js";

const DASHBOARD = "https://ams.example.org/";

function notice(i: number, extra: Partial<Notice> = {}): Notice {
  return {
    key: `disk_warning/web-${i}{mount="/"}`,
    rule: "disk_warning",
    server_id: `web-${i}`,
    metric_type: "Disk",
    labels: { mount: "/" },
    severity: i % 2 ? "warning" : "critical",
    event: "fired",
    at: "2026-11-25T13:10:00.000+01:00",
    since: "2026-11-25T13:00:00.000+01:00",
    value: 97,
    threshold: 90,
    message: `Disk / 97 % on web-${i} (rule disk_warning: >= 90) ${"é".repeat(40)}`,
    unit: "%",
    op: ">=",
    ...extra,
  };
}

const notification = (count: number): Notification => ({
  id: "20261125T121000Z.abc",
  created_at: "2026-11-25T13:10:00.000+01:00",
  notices: Array.from({ length: count }, (_, i) => notice(i + 1)),
});

/** The bodies as each service documents them (the fields AMS sends). */
interface SlackBody {
  text: string;
}
interface DiscordBody {
  content: string;
  allowed_mentions: unknown;
  embeds: { title: string; description: string; color: number }[];
}
interface TelegramBody {
  chat_id: number | string;
  text: string;
  parse_mode?: string;
}
interface NtfyBody {
  topic: string;
  message: string;
  priority: number;
  title: string;
  click: string;
}
interface WebhookBody {
  status: string;
  alerts: {
    labels: Record<string, string>;
    startsAt: string;
    endsAt: string;
    generatorURL: string;
    annotations: Record<string, string>;
  }[];
}

/** Each service's documented format and limits, checked on what reached the receiver. */
const FORMATS = {
  slack(body: SlackBody) {
    expect(Object.keys(body)).toEqual(["text"]);
    expect(typeof body.text).toBe("string");
    expect([...body.text].length).toBeLessThanOrEqual(4000);
  },
  discord(body: DiscordBody) {
    expect(typeof body.content).toBe("string");
    expect([...body.content].length).toBeLessThanOrEqual(2000);
    expect(body.allowed_mentions).toEqual({ parse: [] });
    expect(body.embeds.length).toBeGreaterThan(0);
    expect(body.embeds.length).toBeLessThanOrEqual(10);
    let total = 0;
    for (const e of body.embeds) {
      expect([...e.title].length).toBeLessThanOrEqual(256);
      expect([...e.description].length).toBeLessThanOrEqual(4096);
      expect(Number.isInteger(e.color)).toBe(true);
      total += [...e.title].length + [...e.description].length;
    }
    expect(total).toBeLessThanOrEqual(6000);
  },
  telegram(body: TelegramBody) {
    expect(["number", "string"]).toContain(typeof body.chat_id);
    expect([...body.text].length).toBeLessThanOrEqual(4096);
    expect(body.parse_mode).toBeUndefined();
  },
  ntfy(body: NtfyBody) {
    expect(typeof body.topic).toBe("string");
    expect(Buffer.byteLength(body.message, "utf8")).toBeLessThanOrEqual(4096);
    expect([1, 2, 3, 4, 5]).toContain(body.priority);
    expect(typeof body.title).toBe("string");
    expect(body.click).toBe(DASHBOARD);
  },
  webhook(body: WebhookBody) {
    expect(body).toMatchObject({ version: "4", receiver: expect.any(String), externalURL: DASHBOARD });
    expect(["firing", "resolved"]).toContain(body.status);
    for (const a of body.alerts) {
      expect(Object.keys(a.labels)).toEqual(expect.arrayContaining(["alertname", "server", "severity"]));
      expect(a.startsAt).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(a.endsAt).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(a.generatorURL).toMatch(/^https?:\/\//);
      expect(a.annotations.description).toEqual(expect.any(String));
    }
  },
};

describe("rendering within each service's limits", () => {
  test.each([1, 3, 30, 400])("%i alerts", (count) => {
    const n = notification(count);
    FORMATS.slack(slack.render(n, DASHBOARD));
    FORMATS.discord(discord.render(n, DASHBOARD));
    FORMATS.telegram(telegram.render(n, 42, DASHBOARD));
    FORMATS.ntfy(ntfy.render(n, "ams", DASHBOARD));
    FORMATS.webhook(webhook.render(n, "hook", DASHBOARD));
  });

  test("a report too long for a service keeps whole alerts and ends with a link to the rest", () => {
    const n = notification(400);
    expect(slack.render(n, DASHBOARD).text).toMatch(/\n…and \d+ more: <https:\/\/ams\.example\.org\/\|dashboard>$/);
    expect(telegram.render(n, 42, DASHBOARD).text).toMatch(/\n\n…and \d+ more: https:\/\/ams\.example\.org\/$/);
    expect(ntfy.render(n, "ams", DASHBOARD).message).toMatch(/\n…and \d+ more: https:\/\/ams\.example\.org\/$/);
    const embeds = discord.render(n, DASHBOARD).embeds;
    expect(embeds.at(-1)).toMatchObject({ title: "…and 391 more", url: DASHBOARD });
    // Nothing cut mid-alert in the text forms: every kept line is a whole alert line.
    for (const line of telegram.render(n, 42, DASHBOARD).text.split("\n\n").slice(1, -1))
      expect(line).toMatch(
        /^FIRING \[(warning|critical)\] web-\d+: .*é{40}\nhttps:\/\/ams\.example\.org\/servers\/web-\d+\.html$/,
      );
  });

  test("slack escapes &, < and > (mrkdwn), discord never pings", () => {
    const n: Notification = { ...notification(0), notices: [notice(1, { message: "<!channel> & <@here>" })] };
    expect(slack.render(n, DASHBOARD).text).toContain("&lt;!channel&gt; &amp; &lt;@here&gt;");
    expect(discord.render(n, DASHBOARD).allowed_mentions).toEqual({ parse: [] });
  });

  test("webhook: Alertmanager's webhook body, with AMS's values", () => {
    const n: Notification = {
      ...notification(0),
      notices: [notice(1), notice(2, { event: "resolved", at: "2026-11-25T13:20:00.000+01:00" })],
    };
    const body = webhook.render(n, "hook", DASHBOARD);
    expect(body.status).toBe("firing");
    expect(body.commonLabels).toEqual({ alertname: "disk_warning", mount: "/" });
    expect(body.alerts[0]).toMatchObject({
      status: "firing",
      labels: { alertname: "disk_warning", server: "web-1", severity: "warning", mount: "/" },
      annotations: { value: "97 %", threshold: ">= 90 %" },
      startsAt: "2026-11-25T13:00:00.000+01:00",
      endsAt: "0001-01-01T00:00:00Z",
      generatorURL: "https://ams.example.org/servers/web-1.html",
      ams: { event: "fired", value: 97, threshold: 90, op: ">=", unit: "%" },
    });
    expect(body.alerts[1]).toMatchObject({ status: "resolved", endsAt: "2026-11-25T13:20:00.000+01:00" });
  });

  test("ntfy priority: 5 for critical, 4 for warning, 3 when all resolved", () => {
    const one = (n: Notice) => ntfy.render({ ...notification(0), notices: [n] }, "t", DASHBOARD).priority;
    expect([one(notice(2)), one(notice(1)), one(notice(2, { event: "resolved" }))]).toEqual([5, 4, 3]);
  });
});

describe("HTTP answers", () => {
  let receiver: TestReceiver;
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(() => receiver.close());

  test.each([
    [200, undefined],
    [429, true],
    [500, true],
    [503, true],
    [400, false],
    [403, false],
    [404, false],
  ])("HTTP %i: retried next run = %s", async (status, retry) => {
    receiver.answer = () => status;
    const outcome = await postJson(receiver.url("/x"), '{"a":1}', { timeoutSeconds: 5 }).then(
      () => undefined,
      (err: unknown) => err,
    );
    if (retry === undefined) {
      expect(outcome).toBeUndefined();
      return;
    }
    expect(outcome).toBeInstanceOf(HttpError);
    expect(httpRetryable(outcome)).toBe(retry);
  });

  test("no answer at all (nothing listening) is retried, and the error names no URL", async () => {
    const err = await postJson("http://127.0.0.1:9/hook?token=SECRET", "{}", { timeoutSeconds: 5 }).catch(
      (e: unknown) => e,
    );
    expect(httpRetryable(err)).toBe(true);
    expect((err as Error).message).not.toContain("SECRET");
  });
});

// End to end: the built ams-alert with every chat channel pointed at one loopback receiver.
const T0 = new Date("2026-11-25T12:00:00Z").getTime();
const at = (minute: number) => new Date(T0 + minute * 60_000);
const SLACK_TOKEN = "T000-slack-secret-path";
const BOT_TOKEN = "123456:bot-Secret_token";
const HOOK_SECRET = "hmac-s3cret-value";

const sample = (minute: number, value: number): Sample => ({
  server_id: "web-1",
  metric_type: "Disk",
  timestamp: isoLocal(at(minute)),
  value,
  unit: "%",
  labels: { mount: "/" },
});

function channelsHome(receiver: TestReceiver): string {
  const home = tempHome();
  fs.writeFileSync(path.join(home, "hook.secret"), `${HOOK_SECRET}\n`, { mode: 0o600 });
  writeConfig(home, {
    server_id: "web-1",
    alerts: {
      dashboard_url: DASHBOARD,
      channels: {
        chat: { type: "slack", url_env: "AMS_TEST_SLACK_URL" },
        disc: { type: "discord", url: receiver.url("/discord") },
        tg: { type: "telegram", chat_id: -1001, bot_token_env: "AMS_TEST_BOT", api_url: receiver.url("/tg") },
        push: { type: "ntfy", url: receiver.url("/ntfy/ams-alerts") },
        hook: { type: "webhook", url: receiver.url("/hook"), secret_file: "hook.secret" },
      },
      routes: [{ match: {}, channels: ["chat", "disc", "tg", "push", "hook"], continue: true }],
    },
  });
  return home;
}

const run = (home: string, minute: number, args = ["check"]) =>
  runCli("ams-alert", ["--home", home, ...args], {
    env: {
      AMS_NOW: at(minute).toISOString(),
      AMS_TEST_SLACK_URL: `http://127.0.0.1:${receiverPort}/slack/${SLACK_TOKEN}`,
      AMS_TEST_BOT: BOT_TOKEN,
    },
  });
let receiverPort = 0;

function allFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? allFiles(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

function which(r: Received): keyof typeof FORMATS {
  if (r.path.startsWith("/slack/")) return "slack";
  if (r.path === "/discord") return "discord";
  if (r.path === `/tg/bot${BOT_TOKEN}/sendMessage`) return "telegram";
  if (r.path === "/ntfy/") return "ntfy";
  if (r.path === "/hook") return "webhook";
  throw new Error(`unexpected request to ${r.path}`);
}

test("every channel gets each notification once across runs, one of them down for a while; its format holds; secrets stay out", async () => {
  const receiver = await startReceiver();
  receiverPort = receiver.port;
  try {
    const home = channelsHome(receiver);
    let hookUp = false;
    receiver.answer = (r) =>
      r.path === "/hook" && !hookUp ? 503 : r.path === "/discord" && r.raw.includes("RESOLVED") ? 400 : 200;
    await appendSamples(amsPaths(home).store, [sample(0, 97)]);
    const first = await run(home, 0);
    expect(first.exitCode).toBe(1);
    expect(first.stderr).toMatch(/^ams-alert: hook not delivered \(1 queued, retried next run\): HTTP 503/m);
    for (const secret of [SLACK_TOKEN, BOT_TOKEN, HOOK_SECRET])
      expect(first.stderr + first.stdout).not.toContain(secret);
    const counts = () => {
      const c: Record<string, number> = {};
      for (const r of receiver.received) c[which(r)] = (c[which(r)] ?? 0) + 1;
      return c;
    };
    expect(counts()).toEqual({ slack: 1, discord: 1, telegram: 1, ntfy: 1 });
    expect(fs.readdirSync(amsPaths(home).outbox).filter((f) => f.endsWith(".eml"))).toHaveLength(1);

    const second = await run(home, 5);
    expect(second.exitCode).toBe(1);
    expect(counts()).toEqual({ slack: 1, discord: 1, telegram: 1, ntfy: 1 });
    hookUp = true;
    expect((await run(home, 6)).exitCode).toBe(0);
    expect((await run(home, 7)).exitCode).toBe(0);
    expect(counts()).toEqual({ slack: 1, discord: 1, telegram: 1, ntfy: 1, webhook: 1 });

    for (const r of receiver.received) FORMATS[which(r)](r.json as never);
    const hook = receiver.received.find((r) => which(r) === "webhook")!;
    const expected = `sha256=${createHmac("sha256", HOOK_SECRET).update(hook.raw).digest("hex")}`;
    expect(hook.headers["x-ams-signature"]).toBe(expected);
    expect((hook.json as WebhookBody).alerts[0]!.labels).toEqual({
      alertname: "disk_warning",
      server: "web-1",
      severity: "warning",
      mount: "/",
    });
    expect((receiver.received.find((r) => which(r) === "telegram")!.json as TelegramBody).chat_id).toBe(-1001);
    expect((receiver.received.find((r) => which(r) === "ntfy")!.json as NtfyBody).topic).toBe("ams-alerts");

    // Resolved: discord refuses it for good (400): set aside, not retried; the others get it once.
    await appendSamples(amsPaths(home).store, [sample(10, 40)]);
    const resolved = await run(home, 10);
    expect(resolved.stderr).toMatch(
      /disc \S+ refused for good, not retried, written to .*undeliverable.*disc\..*\.json: HTTP 400/,
    );
    await run(home, 11);
    expect(counts()).toEqual({ slack: 2, discord: 1, telegram: 2, ntfy: 2, webhook: 2 });
    expect((await run(home, 11, ["list"])).stdout).not.toContain("queued");

    for (const file of allFiles(home)) {
      const text = fs.readFileSync(file, "utf8");
      for (const secret of [SLACK_TOKEN, BOT_TOKEN, HOOK_SECRET])
        expect([file, secret, text.includes(secret)]).toEqual([
          file,
          secret,
          file.endsWith("hook.secret") && secret === HOOK_SECRET,
        ]);
    }
  } finally {
    await receiver.close();
  }
}, 90_000);

test("channel config errors name the key; a route naming no channel is refused", async () => {
  const home = tempHome();
  const errorOf = async (alerts: object) => {
    writeConfig(home, { alerts });
    const r = await run(home, 0);
    return [r.exitCode, r.stderr.trim()];
  };
  expect(await errorOf({ channels: { x: { type: "pager" } } })).toEqual([
    1,
    expect.stringMatching(
      /alerts\.channels\.x\.type: unknown channel type "pager" \(known: webhook, slack, discord, telegram, ntfy, alertmanager\)/,
    ),
  ]);
  expect(await errorOf({ channels: { x: { type: "slack", url: "http://127.0.0.1/", colour: 1 } } })).toEqual([
    1,
    expect.stringMatching(/alerts\.channels\.x\.colour: unknown key/),
  ]);
  expect(await errorOf({ channels: { x: { type: "slack" } } })).toEqual([
    1,
    expect.stringMatching(/alerts\.channels\.x\.url: set exactly one of url, url_env, url_file/),
  ]);
  expect(
    await errorOf({ channels: { x: { type: "telegram", chat_id: 1, bot_token_env: "AMS_TEST_UNSET_TOKEN" } } }),
  ).toEqual([
    1,
    expect.stringMatching(
      /alerts\.channels\.x\.bot_token_env: the environment variable AMS_TEST_UNSET_TOKEN is not set/,
    ),
  ]);
  expect(await errorOf({ routes: [{ match: { severity: "critical" }, channels: ["nope"] }] })).toEqual([
    1,
    expect.stringMatching(/alerts\.routes\.0\.channels\.0: no channel named "nope" in alerts\.channels/),
  ]);
  expect(await errorOf({ channels: { email: { type: "slack", url: "http://127.0.0.1/" } } })).toEqual([
    1,
    expect.stringMatching(/"email" is configured by the email section/),
  ]);
  fs.writeFileSync(path.join(home, "open.secret"), "x\n", { mode: 0o644 });
  expect(
    await errorOf({ channels: { h: { type: "webhook", url: "http://127.0.0.1/", secret_file: "open.secret" } } }),
  ).toEqual([
    1,
    expect.stringMatching(
      /alerts\.channels\.h\.secret_file: .*open\.secret is readable by others \(mode 644\); chmod 600 it/,
    ),
  ]);
});

test("a channel whose secret is missing holds back nothing else; once it is set, its notification goes", async () => {
  const receiver = await startReceiver();
  try {
    const home = tempHome();
    writeConfig(home, {
      server_id: "web-1",
      alerts: {
        channels: { chat: { type: "slack", url_env: "AMS_TEST_SLACK_URL" } },
        routes: [{ match: {}, channels: ["chat"], continue: true }],
      },
    });
    await appendSamples(amsPaths(home).store, [sample(0, 97)]);
    const check = (minute: number, env: NodeJS.ProcessEnv) =>
      runCli("ams-alert", ["--home", home, "check"], { env: { AMS_NOW: at(minute).toISOString(), ...env } });
    const unset = await check(0, {});
    expect(unset.exitCode).toBe(1);
    expect(unset.stderr).toMatch(
      /^ams-alert: channel chat cannot be used, its notifications wait in its queue: alerts\.channels\.chat\.url_env: the environment variable AMS_TEST_SLACK_URL is not set$/m,
    );
    expect(fs.readdirSync(amsPaths(home).outbox).filter((f) => f.endsWith(".eml"))).toHaveLength(1);
    const set = await check(5, { AMS_TEST_SLACK_URL: receiver.url(`/slack/${SLACK_TOKEN}`) });
    expect([set.exitCode, set.stderr]).toEqual([0, ""]);
    expect(receiver.received.map((r) => which(r))).toEqual(["slack"]);
    expect((receiver.received[0]!.json as { text: string }).text).toContain("FIRING [warning] web-1: Disk / 97 %");
    expect(fs.readdirSync(amsPaths(home).outbox).filter((f) => f.endsWith(".eml"))).toHaveLength(1);
  } finally {
    await receiver.close();
  }
}, 60_000);
