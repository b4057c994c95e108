import fs from "node:fs";
import path from "node:path";
import { simpleParser } from "mailparser";
import { loadChartRenderer } from "../../graphs/chart.js";
import { buildDashboard } from "../../graphs/dashboard.js";
import { renderIndexPage, renderServerPage } from "../../graphs/pages.js";
import { findRange } from "../../graphs/ranges.js";
import { amsPaths } from "../../lib/paths.js";
import { isoLocal } from "../../lib/time.js";
import type { Sample } from "../../storage/sample.js";
import { appendSamples, InvalidSampleError, readSamples } from "../../storage/store.js";
import { runCli, tempHome, writeConfig } from "../helpers.js";

const T0 = new Date("2026-11-25T12:00:00Z").getTime();
const at = (minute: number) => new Date(T0 + minute * 60_000);
const sample = (server: string, minute: number, value: number, extra: Partial<Sample> = {}): Sample => ({
  server_id: server,
  metric_type: "CPU",
  timestamp: isoLocal(at(minute)),
  value,
  unit: "%",
  ...extra,
});

function storeFile(records: unknown[]): string {
  const file = path.join(tempHome(), "store.json");
  fs.writeFileSync(file, JSON.stringify(records));
  return file;
}

test('the link in an alert mail for server "web.1" opens the page ams-graphs wrote for it', async () => {
  const home = tempHome();
  writeConfig(home, { server_id: "web.1", alerts: { dashboard_url: "https://ams.example.org/dash/" } });
  const paths = amsPaths(home);
  await appendSamples(
    paths.store,
    Array.from({ length: 11 }, (_, i) => sample("web.1", i * 2, 97)),
  );
  const env = { AMS_NOW: at(20).toISOString() };
  expect((await runCli("ams-alert", ["--home", home, "check"], { env })).exitCode).toBe(0);
  expect((await runCli("ams-graphs", ["--home", home], { env })).exitCode).toBe(0);

  const [eml] = fs.readdirSync(paths.outbox).filter((f) => f.endsWith(".eml"));
  const mail = await simpleParser(fs.readFileSync(path.join(paths.outbox, eml!)));
  const links = [...(mail.text ?? "").matchAll(/https:\/\/ams\.example\.org\/dash\/(servers\/\S+)/g)].map((m) => m[1]!);
  expect(links).toHaveLength(1);
  expect(fs.existsSync(path.join(paths.publicDir, links[0]!))).toBe(true);
  expect(mail.html).toContain(`href="https://ams.example.org/dash/${links[0]}"`);
});

describe("percentages out of 0-100 and huge values", () => {
  test("are skipped and counted when read, refused when written", async () => {
    const file = storeFile([
      sample("web-1", 0, 1e308),
      sample("web-1", 1, -1e308),
      sample("web-1", 2, 100.5),
      sample("web-1", 3, -0.1),
      { ...sample("web-1", 4, 10), rollup: { period_seconds: 3600, count: 2, min: 5, max: 1e308 } },
      sample("web-1", 5, 42),
      sample("web-1", 6, 1e308, { unit: "bytes" }),
    ]);
    const read = await readSamples(file, "web-1");
    expect(read.samples.map((s) => s.value)).toEqual([42, 1e308]);
    expect(read.skipped).toBe(5);
    await expect(appendSamples(file, [sample("web-1", 9, 1e308)])).rejects.toThrow(InvalidSampleError);
    await expect(appendSamples(file, [sample("web-1", 9, 1e308)])).rejects.toThrow(
      "value: a percentage must be within 0 to 100",
    );
  });

  test("a plugin printing 1e308 % stores its other values and lists that one as skipped", async () => {
    const home = tempHome();
    const dir = path.join(home, "sensors.d");
    fs.mkdirSync(dir, { mode: 0o755 });
    fs.writeFileSync(path.join(dir, "usage"), "#!/bin/sh\necho 'OK | used=1e308%;90;95 free=-5% ok=40%'\n", {
      mode: 0o755,
    });
    writeConfig(home, { server_id: "web-1" });
    const run = await runCli("ams-sensor", ["--home", home, "usage"]);
    expect(run.exitCode).toBe(0);
    const { samples } = await readSamples(amsPaths(home).store, "web-1");
    expect(samples.filter((s) => s.metric_type === "usage").map((s) => [s.labels?.label, s.value])).toEqual([
      ["ok", 40],
    ]);
    expect(samples.find((s) => s.metric_type === "usage_status")?.details?.skipped).toEqual(["used", "free"]);
  });

  test("the chart scale stays finite: a wild value cannot flatten the other lines nor draw at Infinity", async () => {
    const renderer = await loadChartRenderer();
    const line = (name: string, value: number) => ({
      name,
      runs: [[0, 1, 2].map((i) => ({ t: T0 + i * 60_000, value, lo: value, hi: value, span: 0 }))],
      columns: [0, 1, 2].map((i) => ({ index: i, t: T0 + i * 60_000, value, lo: value, hi: value })),
    });
    const spec = {
      from: T0,
      to: T0 + 120_000,
      buckets: 3,
      tickFormat: "%H:%M",
      thresholds: [],
      shades: [],
      reboots: [],
    };
    const svg = renderer.render({
      ...spec,
      title: "CPU",
      unit: "%",
      lines: [line("web-1", 50), line("evil", 1e308), line("evil-2", -1e308)],
    });
    expect(svg).not.toMatch(/Infinity|NaN/);
    // 50 % is halfway up the 150-pixel plot: y = 75, not flattened onto the axis at 150.
    const paths = [...svg.matchAll(/class="data-line c\d" d="([^"]+)"/g)].map((m) => m[1]!);
    expect(paths[0]).toMatch(/^M0,75L/);
    expect(paths[1]).toMatch(/^M0,0L/); // off the scale: drawn at its top edge
    expect(paths[2]).toMatch(/^M0,150L/); // and at its bottom edge
    const count = renderer.render({ ...spec, title: "queue", unit: "jobs", lines: [line("a", 1e308)] });
    expect(count).not.toMatch(/Infinity|NaN/);
  });
});

test("right-to-left overrides in names cannot reverse the text after them on the pages", () => {
  const rlo = "evil\u202Egnp.exe";
  const now = at(10);
  const dashboard = buildDashboard({
    samples: [sample(rlo, 5, 10, { labels: { mount: "/\u202Eb" }, metric_type: "Disk" })],
    history: [],
    active: [],
    sources: [{ name: rlo, file: "x.json", samples: 1, skipped: 0 }],
    now,
    refreshSeconds: 300,
    silentAfterSeconds: 1800,
  });
  const day = findRange("24h")!;
  const index = renderIndexPage(dashboard, new Map(), [day]);
  const page = renderServerPage(dashboard, dashboard.servers[0]!, day, [day], [], new Map());
  for (const html of [index, page]) {
    // Every occurrence of the override sits inside a <bdi> element, or in no text at all (title).
    const outside = html.replace(/<bdi>[^<]*<\/bdi>/g, "");
    expect(outside).not.toContain("\u202E");
    expect(html).toContain(`<bdi>${rlo}</bdi>`);
  }
  expect(page).toMatch(/<title>evilgnp\.exe · AMS<\/title>/);
});

describe("control characters in names are refused at the store boundary", () => {
  const forged = "web-2\nFIRING [critical] hub: disk full";
  test("records naming such a server (or metric, or label) are skipped when a remote copy is read", async () => {
    const file = storeFile([
      sample(forged, 0, 10),
      sample("web-2", 1, 10, { metric_type: "CPU\r\nX-Injected: 1" }),
      sample("web-2", 2, 10, { labels: { mount: "/\u0007" } }),
      sample("web-2", 3, 10, { server_id: "web-2\u2028x" }),
      { timestamp: "2025-04-18 14:00:00", metric_type: "CPU\nforged", value: "12.5%" },
      sample("web-2", 4, 10),
      // DEL and C1's CSI (a terminal's escape) are control characters too; a no-break space is not.
      sample("web-2", 5, 10, { labels: { mount: "/\u007f" } }),
      sample("web-2", 6, 10, { labels: { mount: "/\u009b2J" } }),
      sample("web-2", 7, 10, { labels: { mount: "/mnt/a\u00a0b" } }),
    ]);
    const read = await readSamples(file, "web-2");
    expect(read.samples.map((s) => s.timestamp)).toEqual([isoLocal(at(4)), isoLocal(at(7))]);
    expect(read.skipped).toBe(7);
  });

  test("and refused when written", async () => {
    const file = storeFile([]);
    await expect(appendSamples(file, [sample(forged, 0, 10)])).rejects.toThrow(
      "server_id: expected a string of 1 to 253 characters, without control characters",
    );
  });
});

const testAsRoot = process.getuid?.() === 0 ? test : test.skip;

testAsRoot("a plugin's grandchild that left its process group with setsid does not outlive the run", async () => {
  const home = tempHome();
  const dir = path.join(home, "sensors.d");
  fs.mkdirSync(dir, { mode: 0o755 });
  const pidFile = path.join(home, "daemon.pid");
  // The daemon writes its pid as the machine sees it (/proc/self is read by the shell itself).
  fs.writeFileSync(
    path.join(dir, "spawner"),
    `#!/bin/sh\nsetsid sh -c 'read pid rest < /proc/self/stat; echo $pid > "${pidFile}"; exec sleep 600' </dev/null >/dev/null 2>&1 &\nwhile [ ! -s "${pidFile}" ]; do sleep 0.05; done\necho 'OK | a=1'\n`,
    { mode: 0o755 },
  );
  writeConfig(home, { server_id: "web-1" });
  const pid = () => Number(fs.readFileSync(pidFile, "utf8"));
  const alive = () => {
    try {
      return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid()}/stat`, "utf8"));
    } catch {
      return false;
    }
  };
  try {
    const run = await runCli("ams-sensor", ["--home", home, "spawner"]);
    expect(run.exitCode).toBe(0);
    // The kernel kills the namespace's last processes as its first one exits; allow it a moment.
    for (let i = 0; i < 50 && alive(); i++) await new Promise((r) => setTimeout(r, 20));
    expect(alive()).toBe(false);
  } finally {
    if (alive()) process.kill(pid(), "SIGKILL");
  }
});
