import { execa, type ResultPromise } from "execa";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { amsPaths } from "../lib/paths.js";
import { appendSamples } from "../storage/store.js";
import { percentSamples, runCli, tempDir, tempHome, writeConfig } from "./helpers.js";

// A real Prometheus Alertmanager (Debian's prometheus-alertmanager) on a loopback port, with a
// config of the test's own. Alertmanager judges startsAt/endsAt by its own clock, so this test's
// times are real ones, in the recent past.
const AM = "/usr/bin/prometheus-alertmanager";

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let am: ResultPromise | undefined;
let base = "";

beforeAll(async () => {
  const dir = tempDir("ams-am-");
  fs.writeFileSync(path.join(dir, "am.yml"), 'route:\n  receiver: "null"\nreceivers:\n  - name: "null"\n');
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  am = execa(
    AM,
    [
      `--config.file=${path.join(dir, "am.yml")}`,
      `--storage.path=${path.join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--cluster.listen-address=",
    ],
    { reject: false },
  );
  for (let i = 0; i < 100; i++) {
    const ready = await fetch(`${base}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("alertmanager did not get ready");
}, 30_000);

afterAll(async () => {
  am?.kill("SIGTERM");
  await am;
});

interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  updatedAt: string;
  generatorURL: string;
  status: { state: string; silencedBy: string[] };
}

async function amAlerts(alertname: string): Promise<AmAlert[]> {
  const all = (await (await fetch(`${base}/api/v2/alerts`)).json()) as AmAlert[];
  return all.filter((a) => a.labels.alertname === alertname);
}

const MIN = 60_000;
const T0 = Math.floor(Date.now() / MIN) * MIN - 10 * MIN;
const at = (minute: number) => new Date(T0 + minute * MIN);
const sample = percentSamples(at);

function amHome(): string {
  const home = tempHome();
  writeConfig(home, {
    server_id: "web-1",
    alerts: {
      dashboard_url: "https://ams.example.org/",
      channels: { am: { type: "alertmanager", url: base } },
      routes: [{ match: {}, channels: ["am"] }],
    },
  });
  return home;
}

const check = (home: string, minute: number) =>
  runCli("ams-alert", ["--home", home, "check"], { env: { AMS_NOW: at(minute).toISOString() } });

test("a crisis is posted with its labels and re-posted each run; its recovery resolves it; no mail", async () => {
  const home = amHome();
  await appendSamples(amsPaths(home).store, [sample("Disk", 0, 92, { mount: "/srv" })]);
  const first = await check(home, 0);
  expect([first.exitCode, first.stderr]).toEqual([0, ""]);
  const [alert] = await amAlerts("disk_warning");
  expect(alert).toMatchObject({
    labels: { alertname: "disk_warning", server: "web-1", severity: "warning", mount: "/srv" },
    annotations: { value: "92 %", threshold: ">= 90 %", summary: "web-1: Disk /srv 92 %" },
    generatorURL: "https://ams.example.org/servers/web-1.html",
    status: { state: "active" },
  });
  expect(Date.parse(alert!.startsAt)).toBe(at(0).getTime());
  // Still firing for ends_after (15 min by default) unless posted again.
  expect(Date.parse(alert!.endsAt)).toBe(at(15).getTime());

  // Nothing changed: posted again all the same, so Alertmanager keeps it active.
  await new Promise((r) => setTimeout(r, 50));
  expect((await check(home, 5)).exitCode).toBe(0);
  const [again] = await amAlerts("disk_warning");
  expect(Date.parse(again!.updatedAt)).toBeGreaterThan(Date.parse(alert!.updatedAt));

  await appendSamples(amsPaths(home).store, [sample("Disk", 10, 40, { mount: "/srv" })]);
  expect((await check(home, 10)).exitCode).toBe(0);
  const after = await amAlerts("disk_warning");
  expect(after.filter((a) => Date.parse(a.endsAt) > Date.now())).toEqual([]);
  // The only route stops at Alertmanager: no mail at all.
  expect(fs.existsSync(amsPaths(home).outbox)).toBe(false);
}, 60_000);

test("a silence made in Alertmanager is honoured by Alertmanager; AMS keeps posting, silencing nothing itself", async () => {
  const home = amHome();
  const silence = await fetch(`${base}/api/v2/silences`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      matchers: [{ name: "alertname", value: "ram_high", isRegex: false, isEqual: true }],
      startsAt: new Date().toISOString(),
      endsAt: new Date(Date.now() + 3600_000).toISOString(),
      createdBy: "test",
      comment: "maintenance",
    }),
  });
  const { silenceID } = (await silence.json()) as { silenceID: string };
  await appendSamples(
    amsPaths(home).store,
    [0, 5].map((m) => sample("RAM", m, 95)),
  );
  expect((await check(home, 5)).exitCode).toBe(0);
  const [alert] = await amAlerts("ram_high");
  expect(alert!.status).toMatchObject({ state: "suppressed", silencedBy: [silenceID] });
  const list = await runCli("ams-alert", ["--home", home, "list"]);
  expect(list.stdout).toMatch(/^firing  warning  ram_high\/web-1 .*\(> 90\)$/);
}, 60_000);
