import fs from "node:fs";
import path from "node:path";
import { amsPaths } from "../lib/paths.js";
import { appendSamples } from "../storage/store.js";
import { fixture, percentSamples, runCli, tempHome, writeConfig } from "./helpers.js";
import { startSmtp, type TestSmtp } from "./support/smtp.js";

// Pins the mails a config without alert routes produces, byte for byte (over SMTP and in the
// outbox): a fire of two alerts at once, then their resolution. Only what is random by design is
// masked: the Message-ID's random part and the MIME boundary.
const T0 = new Date("2026-11-25T12:00:00Z").getTime();
const at = (minute: number) => new Date(T0 + minute * 60_000);

const sample = percentSamples(at);

function masked(raw: string): string {
  const boundary = /boundary="([^"]+)"/.exec(raw)?.[1];
  const text = boundary ? raw.split(boundary).join("BOUNDARY") : raw;
  return text.replace(/^(Message-ID: <\d{8}T\d{6}[^.]*\.)[0-9a-f]+(@ams>)/m, "$1RANDOM$2");
}

async function crisisAndRecovery(home: string, run: (minute: number) => Promise<void>) {
  const store = amsPaths(home).store;
  await appendSamples(
    store,
    [0, 5, 10].map((m) => sample("CPU", m, 97)),
  );
  await appendSamples(store, [sample("Disk", 10, 99, { mount: "/" })]);
  await run(10);
  await appendSamples(store, [sample("CPU", 15, 20), sample("Disk", 15, 40, { mount: "/" })]);
  await run(15);
}

const env = (minute: number) => ({ AMS_NOW: at(minute).toISOString(), TZ: "Europe/Paris" });

let smtp: TestSmtp;
beforeAll(async () => {
  smtp = await startSmtp();
});
afterAll(() => smtp.close());

test("over SMTP: the fire and resolve mails are byte-identical to the pinned ones", async () => {
  const home = tempHome();
  writeConfig(home, {
    server_id: "web-1",
    alerts: { dashboard_url: "https://ams.example.org/" },
    email: {
      host: "127.0.0.1",
      port: smtp.port,
      starttls: false,
      from: "AMS <ams@example.org>",
      to: ["a@example.org"],
    },
  });
  const before = smtp.received.length;
  await crisisAndRecovery(home, async (minute) => {
    const run = await runCli("ams-alert", ["--home", home, "check"], { env: env(minute) });
    expect([run.exitCode, run.stderr]).toEqual([0, ""]);
  });
  const mails = smtp.received.slice(before).map((r) => masked(r.raw));
  expect(mails).toHaveLength(2);
  mails.forEach((mail, i) => expect(mail).toBe(fs.readFileSync(fixture("alert-mails", `smtp-${i + 1}.eml`), "utf8")));
}, 60_000);

test("in the outbox: the .eml files are byte-identical to the pinned ones", async () => {
  const home = tempHome();
  writeConfig(home, { server_id: "web-1" });
  await crisisAndRecovery(home, async (minute) => {
    const run = await runCli("ams-alert", ["--home", home, "check"], { env: env(minute) });
    expect([run.exitCode, run.stderr]).toEqual([0, ""]);
  });
  const outbox = amsPaths(home).outbox;
  const files = fs
    .readdirSync(outbox)
    .filter((f) => f.endsWith(".eml"))
    .sort();
  expect(files).toHaveLength(2);
  files.forEach((file, i) =>
    expect(masked(fs.readFileSync(path.join(outbox, file), "utf8"))).toBe(
      fs.readFileSync(fixture("alert-mails", `outbox-${i + 1}.eml`), "utf8"),
    ),
  );
}, 60_000);
