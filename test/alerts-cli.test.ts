import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { simpleParser } from "mailparser";
import { amsPaths, installDir } from "../lib/paths.js";
import { isoLocal } from "../lib/time.js";
import type { Sample } from "../storage/sample.js";
import { appendSamples } from "../storage/store.js";
import { readAlertHistory } from "../storage/alert-history.js";
import { runCli, tempHome, writeConfig } from "./helpers.js";
import { startSmtp, type TestSmtp } from "./support/smtp.js";

// End to end: the built ams-alert against a temp home and a real SMTP server on loopback. Time moves
// through AMS_NOW (the CLI's replay clock); samples are stamped relative to the same base time.
const T0 = new Date("2026-11-25T12:00:00Z").getTime();
const MIN = 60_000;
const SECRET = "pw-Zq81-never-written";
const at = (minute: number) => new Date(T0 + minute * MIN);

function sample(
  server: string,
  metric: string,
  minute: number,
  value: number,
  labels?: Record<string, string>,
): Sample {
  return {
    server_id: server,
    metric_type: metric,
    timestamp: isoLocal(at(minute)),
    value,
    unit: metric === "Processes" ? "count" : "%",
    ...(labels ? { labels } : {}),
  };
}

const minutes = (from: number, to: number) =>
  Array.from({ length: Math.floor((to - from) / 5) + 1 }, (_, i) => from + i * 5);

const DB_REMOTE = { name: "db-1", host: "db-1.example.org", user: "ams" };

function smtpHome(port: number, extra: object = {}): string {
  const home = tempHome();
  writeConfig(home, {
    server_id: "web-1",
    alerts: { dashboard_url: "https://ams.example.org/" },
    email: {
      host: "127.0.0.1",
      port,
      starttls: false,
      user: "ams",
      password_env: "AMS_TEST_SMTP_PASSWORD",
      from: "AMS <ams@example.org>",
      to: ["admin@example.org"],
    },
    ...extra,
  });
  return home;
}

const check = (home: string, minute: number, args: string[] = ["check"]) =>
  runCli("ams-alert", ["--home", home, ...args], {
    env: { AMS_NOW: at(minute).toISOString(), AMS_TEST_SMTP_PASSWORD: SECRET },
  });

async function store(home: string, samples: Sample[]) {
  await appendSamples(amsPaths(home).store, samples);
}

/** What ams-alert keeps between runs: anything in storage/state/ but the config cache every job shares. */
const alertState = (home: string) =>
  fs.existsSync(amsPaths(home).stateDir)
    ? fs.readdirSync(amsPaths(home).stateDir).filter((f) => f !== "config.json")
    : [];

/** Every file under the home, for the secret check. */
function allFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? allFiles(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

function expectNoSecret(home: string) {
  const files = allFiles(home);
  expect(files.some((f) => f.endsWith("alert.log"))).toBe(true);
  for (const file of files) expect([file, fs.readFileSync(file, "utf8").includes(SECRET)]).toEqual([file, false]);
}

let smtp: TestSmtp;
beforeAll(async () => {
  smtp = await startSmtp({ user: "ams", password: SECRET });
});
afterAll(() => smtp.close());

describe("ams-alert end to end", () => {
  test("a CPU crisis held across 6 runs: one mail; a reminder after 4 h; one resolved mail", async () => {
    const home = smtpHome(smtp.port);
    const before = smtp.received.length;
    const mails = () => smtp.received.slice(before);
    for (const minute of minutes(0, 35)) {
      await store(home, [sample("web-1", "CPU", minute, 97)]);
      if (minute < 10) continue;
      const run = await check(home, minute);
      expect([minute, run.exitCode, run.stderr]).toEqual([minute, 0, ""]);
    }
    expect(mails()).toHaveLength(1);
    const first = mails()[0]!;
    expect(first.auth).toBe("ams");
    expect(first.mail.subject).toBe("[AMS] 1 alert, worst warning: FIRING web-1 CPU");
    expect(first.mail.to).toMatchObject({ text: "admin@example.org" });
    expect(first.mail.text).toBe(
      `AMS alert report, ${isoLocal(at(10))}\n\n` +
        "FIRING [warning] web-1: CPU 97 % on web-1 (rule cpu_high: > 90 for 10 min)\n" +
        `    value 97 %, threshold > 90 %, since ${isoLocal(at(0))}\n` +
        "    https://ams.example.org/servers/web-1.html\n" +
        "Dashboard: https://ams.example.org/\n",
    );
    expect(first.mail.html).toContain(
      '<td><a href="https://ams.example.org/servers/web-1.html">web-1</a></td><td>CPU</td><td>97 %</td><td>&gt; 90 %</td>',
    );

    // Still at 97 % four hours after it fired: one reminder.
    await store(
      home,
      minutes(40, 250).map((m) => sample("web-1", "CPU", m, 97)),
    );
    expect((await check(home, 249)).exitCode).toBe(0);
    expect(mails()).toHaveLength(1);
    expect((await check(home, 250)).exitCode).toBe(0);
    expect(mails()).toHaveLength(2);
    expect(mails()[1]!.mail.subject).toBe("[AMS] 1 alert, worst warning: STILL FIRING web-1 CPU");

    // Recovery: 88 % is under the threshold but above the clear line (85): still firing; 40 % ends it.
    await store(home, [sample("web-1", "CPU", 255, 88)]);
    await check(home, 255);
    expect(mails()).toHaveLength(2);
    await store(home, [sample("web-1", "CPU", 260, 40)]);
    const resolved = await check(home, 260);
    expect(resolved.stdout).toContain("RESOLVED [warning] cpu_high/web-1");
    await check(home, 265);
    expect(mails()).toHaveLength(3);
    expect(mails()[2]!.mail.subject).toBe("[AMS] 1 alert, worst warning: RESOLVED web-1 CPU");
    expect(mails()[2]!.mail.text).toContain(
      "RESOLVED [warning] web-1: CPU 40 % on web-1, back to normal (rule cpu_high: > 90 for 10 min)",
    );

    const { events } = await readAlertHistory(amsPaths(home).alertsLog);
    expect(events.map((e) => [e.event, e.key, e.at])).toEqual([
      ["fired", "cpu_high/web-1", isoLocal(at(10))],
      ["reminded", "cpu_high/web-1", isoLocal(at(250))],
      ["resolved", "cpu_high/web-1", isoLocal(at(260))],
    ]);
    const list = await check(home, 265, ["list"]);
    expect(list.stdout).toBe("no alert firing or pending");
    // A year later, the history is pruned by age.
    const pruned = await runCli("ams-cleanup", ["alerts", "--home", home], {
      env: { AMS_NOW: at(365 * 24 * 60).toISOString() },
    });
    expect([pruned.exitCode, pruned.stdout]).toEqual([0, "alert history: 3 removed, 0 kept"]);
    expectNoSecret(home);
  }, 120_000);

  test("a mail the server refuses for good is set aside as a file and does not block the next alerts", async () => {
    const picky = await startSmtp({ user: "ams", password: SECRET, refuseSubject: "CPU" });
    try {
      const home = smtpHome(picky.port);
      await store(
        home,
        minutes(0, 10).map((m) => sample("web-1", "CPU", m, 99)),
      );
      const refused = await check(home, 10);
      expect(refused.exitCode).toBe(1);
      expect(refused.stderr).toMatch(/refused for good, not retried, written to .*undeliverable.*\.eml: .*554/);
      const setAside = fs.readdirSync(path.join(home, "logs", "outbox", "undeliverable"));
      expect(setAside).toHaveLength(1);
      expect(fs.readFileSync(path.join(home, "logs", "outbox", "undeliverable", setAside[0]!), "utf8")).toContain(
        "FIRING web-1 CPU",
      );
      expect((await check(home, 10, ["list"])).stdout).not.toContain("queued");
      await store(
        home,
        minutes(15, 25).map((m) => sample("web-1", "RAM", m, 95)),
      );
      expect((await check(home, 25)).exitCode).toBe(0);
      expect(picky.received.map((r) => r.mail.subject)).toEqual(["[AMS] 1 alert, worst warning: FIRING web-1 RAM"]);
      expectNoSecret(home);
    } finally {
      await picky.close();
    }
  });

  test("two crises in one run: one mail naming both", async () => {
    const home = smtpHome(smtp.port);
    const before = smtp.received.length;
    await store(
      home,
      minutes(0, 10).flatMap((m) => [sample("web-1", "CPU", m, 99), sample("web-1", "RAM", m, 95)]),
    );
    const run = await check(home, 10);
    expect(run.exitCode).toBe(0);
    const mails = smtp.received.slice(before);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.mail.subject).toBe("[AMS] 2 alerts, worst warning: FIRING web-1 CPU, FIRING web-1 RAM");
    expect(mails[0]!.mail.text).toContain("FIRING [warning] web-1: CPU 99 % on web-1");
    expect(mails[0]!.mail.text).toContain("FIRING [warning] web-1: RAM 95 % on web-1");
    const list = await check(home, 10, ["list"]);
    expect(list.stdout).toMatch(
      /^firing  warning  cpu_high\/web-1  since \S+  CPU 99 % on web-1 \(> 90\)\nfiring  warning  ram_high\/web-1 /,
    );
  }, 60_000);

  test("overlapping runs take turns: one mail", async () => {
    const home = smtpHome(smtp.port);
    const before = smtp.received.length;
    await store(home, [sample("web-1", "Disk", 0, 99, { mount: "/data" })]);
    const runs = await Promise.all([check(home, 0), check(home, 0), check(home, 0)]);
    expect(runs.map((r) => r.exitCode)).toEqual([0, 0, 0]);
    expect(smtp.received.slice(before).map((r) => r.mail.subject)).toEqual([
      "[AMS] 2 alerts, worst critical: FIRING web-1 Disk /data",
    ]);
  }, 60_000);

  test("SMTP down during a run: the mail is delivered by the next run once the server is back, exactly once", async () => {
    const down = await startSmtp({ user: "ams", password: SECRET });
    const port = down.port;
    await down.close();
    const home = smtpHome(port);
    await store(
      home,
      minutes(0, 10).map((m) => sample("web-1", "Disk", m, 92, { mount: "/" })),
    );
    const failed = await check(home, 10);
    expect(failed.exitCode).toBe(1);
    expect(failed.stderr).toMatch(/mail not delivered \(1 queued, retried next run\): .*ECONNREFUSED/);
    expect((await check(home, 11, ["list"])).stdout).toMatch(
      /\nqueued  email \S+: 1 alert\(s\) \(1 failed attempt\(s\): .*ECONNREFUSED/,
    );

    const back = await startSmtp({ port, user: "ams", password: SECRET });
    try {
      await store(home, [sample("web-1", "Disk", 15, 92, { mount: "/" })]);
      expect((await check(home, 15)).exitCode).toBe(0);
      await store(home, [sample("web-1", "Disk", 20, 93, { mount: "/" })]);
      expect((await check(home, 20)).exitCode).toBe(0);
      expect(back.received.map((r) => r.mail.subject)).toEqual(["[AMS] 1 alert, worst warning: FIRING web-1 Disk /"]);
      // The mail says when the alert started, not when the server came back.
      expect(back.received[0]!.mail.date?.toISOString()).toBe(at(10).toISOString());
    } finally {
      await back.close();
    }
    expectNoSecret(home);
  }, 60_000);

  test("a remote server silent for 30 minutes fires, and resolves when its samples return", async () => {
    const home = smtpHome(smtp.port, { remotes: [DB_REMOTE] });
    const before = smtp.received.length;
    const mails = () => smtp.received.slice(before).map((r) => r.mail.subject);
    const remote = path.join(amsPaths(home).remoteDir, "db-1_logs.json");
    await appendSamples(remote, [sample("db-1", "CPU", 0, 10)]);
    for (const minute of [5, 15, 29, 30, 35, 45]) {
      await store(home, [sample("web-1", "CPU", minute, 10)]);
      await check(home, minute);
      expect([minute, mails().length]).toEqual([minute, minute < 30 ? 0 : 1]);
    }
    expect(mails()).toEqual(["[AMS] 1 alert, worst critical: FIRING db-1 no samples"]);
    expect(smtp.received.at(-1)!.mail.text).toContain(
      `FIRING [critical] db-1: db-1 silent for 30 min (no sample for 30 min or more)\n    value 30 min, threshold >= 30 min, since ${isoLocal(at(0))}`,
    );
    await appendSamples(remote, [sample("db-1", "CPU", 50, 12)]);
    await store(home, [sample("web-1", "CPU", 50, 10)]);
    await check(home, 50);
    await check(home, 55);
    expect(mails()).toEqual([
      "[AMS] 1 alert, worst critical: FIRING db-1 no samples",
      "[AMS] 1 alert, worst critical: RESOLVED db-1 no samples",
    ]);
  }, 60_000);

  test("a remote taken out of the config leaves the alerts: no silent alert, no reminders of its firing ones", async () => {
    const home = smtpHome(smtp.port, { remotes: [DB_REMOTE] });
    const before = smtp.received.length;
    const mails = () => smtp.received.slice(before).map((r) => r.mail.subject);
    await appendSamples(
      path.join(amsPaths(home).remoteDir, "db-1_logs.json"),
      minutes(0, 10).map((m) => sample("db-1", "CPU", m, 99)),
    );
    await store(home, [sample("web-1", "CPU", 10, 10)]);
    await check(home, 10);
    expect(mails()).toEqual(["[AMS] 1 alert, worst warning: FIRING db-1 CPU"]);
    writeConfig(home, { ...JSON.parse(fs.readFileSync(amsPaths(home).config, "utf8")), remotes: [] });
    for (const minute of [40, 60, 300]) {
      await store(home, [sample("web-1", "CPU", minute, 10)]);
      expect((await check(home, minute)).exitCode).toBe(0);
    }
    expect(mails()).toEqual(["[AMS] 1 alert, worst warning: FIRING db-1 CPU"]);
    expect((await check(home, 300, ["list"])).stdout).toBe("no alert firing or pending");
  }, 60_000);

  test("no SMTP host: mails go to logs/outbox/ as .eml files", async () => {
    const home = tempHome();
    writeConfig(home, { server_id: "web-1" });
    await store(home, [sample("web-1", "Disk", 0, 99, { mount: "/" })]);
    const run = await check(home, 0);
    expect(run.exitCode).toBe(0);
    const outbox = amsPaths(home).outbox;
    const files = fs.readdirSync(outbox);
    expect(files).toHaveLength(1);
    const eml = await simpleParser(fs.readFileSync(path.join(outbox, files[0]!)));
    expect(eml.subject).toBe("[AMS] 2 alerts, worst critical: FIRING web-1 Disk /");
    expect(eml.text).toContain("FIRING [critical] web-1: Disk / 99 % on web-1 (rule disk_critical: >= 98)");
    await check(home, 1);
    expect(fs.readdirSync(outbox)).toHaveLength(1);
    const test = await check(home, 1, ["test-email"]);
    expect(test.stdout).toMatch(/^outbox .*: written to .*\.test\.eml$/);
  });

  test("test-email reports the SMTP server's answer", async () => {
    const home = smtpHome(smtp.port);
    const run = await check(home, 0, ["test-email"]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^smtp 127\\.0\\.0\\.1:${smtp.port}: 250 .*Queued as test`));
    expect(smtp.received.at(-1)!.mail.subject).toBe("[AMS] test mail from web-1");
    expectNoSecret(home);
  });

  test("STARTTLS (the default): the mail goes over TLS to a server whose certificate is trusted, never in clear to one without it", async () => {
    const dir = tempHome();
    const key = path.join(dir, "key.pem");
    const cert = path.join(dir, "cert.pem");
    await execa("openssl", [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
    ]);
    const tls = await startSmtp({
      user: "ams",
      password: SECRET,
      tls: { key: fs.readFileSync(key, "utf8"), cert: fs.readFileSync(cert, "utf8") },
    });
    try {
      const home = tempHome();
      const email = {
        host: "127.0.0.1",
        port: tls.port,
        user: "ams",
        password_env: "AMS_TEST_SMTP_PASSWORD",
        to: ["admin@example.org"],
      };
      writeConfig(home, { server_id: "web-1", email });
      const env = { AMS_NOW: at(0).toISOString(), AMS_TEST_SMTP_PASSWORD: SECRET };
      // The certificate is self-signed: refused until it is trusted.
      const untrusted = await runCli("ams-alert", ["--home", home, "test-email"], { env });
      expect(untrusted.exitCode).toBe(1);
      expect(untrusted.stderr).toMatch(/self[- ]signed certificate/);
      expect(tls.received).toHaveLength(0);
      const trusted = await runCli("ams-alert", ["--home", home, "test-email"], {
        env: { ...env, NODE_EXTRA_CA_CERTS: cert },
      });
      expect([trusted.exitCode, trusted.stderr]).toEqual([0, ""]);
      expect(tls.received.map((r) => [r.auth, r.mail.subject])).toEqual([["ams", "[AMS] test mail from web-1"]]);
      expect(tls.received[0]!.secure).toBe(true);
      // A server that does not offer STARTTLS never gets the password.
      writeConfig(home, { server_id: "web-1", email: { ...email, port: smtp.port } });
      const before = smtp.received.length;
      const plain = await runCli("ams-alert", ["--home", home, "test-email"], { env });
      expect(plain.exitCode).toBe(1);
      expect(plain.stderr).toMatch(/STARTTLS/);
      expect(smtp.received.length).toBe(before);
      expectNoSecret(home);
    } finally {
      await tls.close();
    }
  }, 60_000);

  test.each([
    [
      { alerts: { rules: { cpu: { metric: "CPUU", threshold: 90 } } } },
      'alerts.rules.cpu.metric: unknown metric "CPUU"',
    ],
    [
      { alerts: { rules: { cpu: { metric: "CPU", threshold: 90, for: "ten" } } } },
      "alerts.rules.cpu.for: expected a duration",
    ],
    [{ alerts: { rules: { cpu: { metric: "CPU", threshold: -5 } } } }, "alerts.rules.cpu.threshold: must be 0 or more"],
    [{ email: { host: "127.0.0.1" } }, "email.to: at least one recipient"],
  ])("bad config %j exits 1 naming the key", async (config, message) => {
    const home = tempHome();
    writeConfig(home, config);
    await store(home, [sample("web-1", "CPU", 0, 99)]);
    const run = await check(home, 0);
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain(message);
    expect(alertState(home)).toEqual([]);
  });

  test("a template with an unknown placeholder is reported and nothing is sent; fixed, the alert goes out", async () => {
    const home = tempHome();
    const template = fs.readFileSync(path.join(installDir, "alerts", "alert-mail.template"), "utf8");
    fs.writeFileSync(path.join(home, "mail.template"), template.replace("] {{server}}:", "] {{hostname}}:"));
    writeConfig(home, { server_id: "web-1", alerts: { template: "mail.template" } });
    await store(home, [sample("web-1", "Disk", 0, 95, { mount: "/" })]);
    const run = await check(home, 0);
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('mail.template: section "text-item": unknown placeholder {{hostname}}');
    expect(fs.existsSync(amsPaths(home).outbox)).toBe(false);
    fs.writeFileSync(path.join(home, "mail.template"), template);
    expect((await check(home, 1)).exitCode).toBe(0);
    expect(fs.readdirSync(amsPaths(home).outbox)).toHaveLength(1);
  });

  test("cert_advisories: a new advisory is mailed once, linking to it", async () => {
    const home = tempHome();
    writeConfig(home, { server_id: "web-1", alerts: { cert_advisories: true } });
    const advisory = (n: number, minute: number): Sample => ({
      ...sample("web-1", "CERT", minute, 1),
      unit: "advisory",
      details: {
        title: `Vulnérabilité <${n}>`,
        link: `https://www.cert.ssi.gouv.fr/avis/CERTFR-2026-AVI-${n}/`,
        published: at(minute).toISOString(),
        feed: "avis",
      },
    });
    await store(home, [advisory(1, 0), sample("web-1", "CPU", 0, 5)]);
    await check(home, 0);
    expect(fs.existsSync(amsPaths(home).outbox)).toBe(false);
    await store(home, [advisory(2, 5), sample("web-1", "CPU", 5, 5)]);
    await check(home, 5);
    await check(home, 6);
    const files = fs.readdirSync(amsPaths(home).outbox);
    expect(files).toHaveLength(1);
    const mail = await simpleParser(fs.readFileSync(path.join(amsPaths(home).outbox, files[0]!)));
    expect(mail.subject).toBe("[AMS] 1 alert, worst warning: FIRING web-1 CERT");
    expect(mail.text).toContain("FIRING [warning] web-1: new CERT advisory: Vulnérabilité <2>");
    expect(mail.html).toContain('<a href="https://www.cert.ssi.gouv.fr/avis/CERTFR-2026-AVI-2/">web-1</a>');
  });

  test("--dry-run prints what would fire and stores nothing", async () => {
    const home = tempHome();
    writeConfig(home, { server_id: "web-1" });
    await store(home, [sample("web-1", "Disk", 0, 95, { mount: "/" })]);
    const run = await check(home, 0, ["--dry-run"]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toBe(
      'FIRED [warning] disk_warning/web-1{mount="/"}: Disk / 95 % on web-1 (rule disk_warning: >= 90)',
    );
    expect(alertState(home)).toEqual([]);
    expect(fs.existsSync(amsPaths(home).alertsLog)).toBe(false);
  });

  test("--dry-run needs no SMTP password", async () => {
    const home = smtpHome(smtp.port);
    const before = smtp.received.length;
    await store(home, [sample("web-1", "Disk", 0, 95, { mount: "/" })]);
    const run = await runCli("ams-alert", ["--home", home, "check", "--dry-run"], {
      env: { AMS_NOW: at(0).toISOString() },
    });
    expect([run.exitCode, run.stderr]).toEqual([0, ""]);
    expect(run.stdout).toContain("FIRED [warning] disk_warning/web-1");
    expect(smtp.received.length).toBe(before);
    expect(alertState(home)).toEqual([]);
  });
});
