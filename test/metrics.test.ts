import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { execa } from "execa";
import { parseConfig } from "../config/ams-config.js";
import { amsPaths } from "../lib/paths.js";
import { writePullStatus } from "../storage/pull-status.js";
import type { Sample } from "../storage/sample.js";
import { escapeLabelValue, metricsHandler, renderMetrics, type MetricsInput } from "../web/metrics.js";
import { tempHome } from "./helpers.js";

const NOW = new Date("2026-11-25T13:10:00.000Z");

const sample = (
  server_id: string,
  metric_type: string,
  value: number,
  minute: number,
  extra: Partial<Sample> = {},
): Sample => ({
  server_id,
  metric_type,
  timestamp: `2026-11-25T14:${String(minute).padStart(2, "0")}:00.000+01:00`,
  value,
  unit: "%",
  ...extra,
});

const ODD = 'we"b\\1\nx'; // a server_id a remote store may carry: quote, backslash, newline

const input: MetricsInput = {
  samples: [
    sample("web-1", "CPU", 10, 0),
    sample("web-1", "CPU", 42.5, 5), // newer: wins
    sample("web-1", "CPU", 30, 2),
    sample("web-1", "RAM", 61, 5),
    sample("web-1", "Disk", 24, 5, { labels: { mount: "/" } }),
    sample("web-1", "Disk", 80, 5, { labels: { mount: '/mnt/"data"' } }),
    sample("web-1", "Processes", 187, 5, { unit: "count" }),
    sample("web-1", "Users", 2, 5, { unit: "count" }),
    sample("web-1", "CERT", 1, 5, { unit: "advisory", details: { title: "x" } }),
    sample(ODD, "CPU", 7, 9),
    sample("web-2", "nginx.connections", 311, 8, {
      unit: "count",
      labels: { server: "front", "0port": "443", __name__: "x", __1: "a", " _x": "b" },
    }),
    sample("web-2", "nginx-connections", 5, 8, { unit: "count" }), // same family name once sanitized
  ],
  remotes: ["web-2", "web-3", "web-4"],
  pulls: {
    "web-2": {
      last_attempt: "2026-11-25T13:08:00.000Z",
      last_success: "2026-11-25T13:08:00.000Z",
      duration_seconds: 0.4,
      records: 12,
    },
    "web-3": {
      last_attempt: "2026-11-25T13:08:00.000Z",
      last_success: "2026-11-25T12:00:00.000Z",
      last_error: "timed out after 60 s",
      duration_seconds: 60,
    },
    gone: { last_attempt: "2026-11-25T13:08:00.000Z", duration_seconds: 1 }, // no longer configured
  },
  alerts: [
    { rule: "cpu_high", server_id: "web-1", severity: "critical" },
    { rule: "cpu_high", server_id: "web-1", severity: "critical" }, // reported twice: one series
    { rule: "disk_full", server_id: ODD, severity: "warning", labels: { mount: "/" }, silenced: true },
  ],
  now: NOW,
};

/** The series lines (name{labels} value) of an exposition. */
const seriesLines = (text: string) => text.split("\n").filter((line) => line && !line.startsWith("#"));

async function promtool(text: string): Promise<{ exitCode?: number; output: string }> {
  const result = await execa("promtool", ["check", "metrics"], { input: text, reject: false });
  return { exitCode: result.exitCode, output: `${result.stdout}${result.stderr}` };
}

describe("renderMetrics", () => {
  const text = renderMetrics(input);

  test("latest value of every series as gauges, labels escaped", () => {
    const lines = seriesLines(text);
    expect(lines).toEqual(
      expect.arrayContaining([
        'ams_cpu_percent{server="web-1"} 42.5',
        'ams_cpu_percent{server="we\\"b\\\\1\\nx"} 7',
        'ams_ram_percent{server="web-1"} 61',
        'ams_disk_used_percent{mount="/",server="web-1"} 24',
        'ams_disk_used_percent{mount="/mnt/\\"data\\"",server="web-1"} 80',
        'ams_processes{server="web-1"} 187',
        'ams_users{server="web-1"} 2',
        'ams_custom_nginx_connections{_0port="443",_1="a",label_server="front",metric="nginx.connections",name__="x",server="web-2",x="b"} 311',
        'ams_custom_nginx_connections{metric="nginx-connections",server="web-2"} 5',
      ]),
    );
    expect(lines.filter((l) => l.startsWith("ams_cpu_percent{"))).toHaveLength(2);
    expect(text).not.toMatch(/CERT|ams_cert/);
  });

  test("sample age, pull status of configured remotes, firing alerts", () => {
    const lines = seriesLines(text);
    expect(lines).toEqual(
      expect.arrayContaining([
        'ams_sample_age_seconds{metric="CPU",server="web-1"} 300',
        'ams_sample_age_seconds{metric="Disk",mount="/",server="web-1"} 300',
        'ams_remote_up{server="web-2"} 1',
        'ams_remote_up{server="web-3"} 0',
        'ams_remote_up{server="web-4"} 0',
        'ams_remote_last_success_timestamp_seconds{server="web-3"} 1795608000',
        'ams_remote_pull_duration_seconds{server="web-3"} 60',
      ]),
    );
    expect(lines.some((l) => l.includes('"gone"'))).toBe(false);
    expect(lines.some((l) => l.startsWith('ams_remote_last_success_timestamp_seconds{server="web-4"}'))).toBe(false);
    expect(lines.filter((l) => l.startsWith("ams_alert_firing"))).toEqual([
      'ams_alert_firing{mount="/",rule="disk_full",server="we\\"b\\\\1\\nx",severity="warning"} 1',
      'ams_alert_firing{rule="cpu_high",server="web-1",severity="critical"} 1',
    ]);
    expect(lines.filter((l) => l.startsWith("ams_alert_silenced"))).toEqual([
      'ams_alert_silenced{mount="/",rule="disk_full",server="we\\"b\\\\1\\nx",severity="warning"} 1',
      'ams_alert_silenced{rule="cpu_high",server="web-1",severity="critical"} 0',
    ]);
  });

  test("HELP and TYPE once per family, right before its series; no duplicate series; final newline", () => {
    const lines = text.split("\n");
    expect(text.endsWith("}\n") || /\d\n$/.test(text)).toBe(true);
    const families = lines.filter((l) => l.startsWith("# TYPE ")).map((l) => l.split(" ")[2]!);
    expect(new Set(families).size).toBe(families.length);
    expect(lines.filter((l) => l.startsWith("# HELP ")).map((l) => l.split(" ")[2])).toEqual(families);
    const series = seriesLines(text).map((l) => l.slice(0, l.lastIndexOf(" ")));
    expect(new Set(series).size).toBe(series.length);
    // Every series follows its own family's TYPE line.
    let current = "";
    for (const line of lines.filter(Boolean)) {
      if (line.startsWith("# TYPE ")) current = line.split(" ")[2]!;
      else if (!line.startsWith("#")) expect(line.slice(0, line.indexOf("{"))).toBe(current);
    }
  });

  test("promtool accepts it without lint remarks", async () => {
    const { exitCode, output } = await promtool(text);
    expect(output).toBe(""); // no lint remark either (they alone make it exit 3)
    expect(exitCode).toBe(0);
  });

  test("promtool catches what the test relies on: a missing final newline fails, a lint remark exits 3", async () => {
    expect((await promtool(text.trimEnd())).exitCode).toBe(1);
    const withoutHelp = text.replace(/^# HELP ams_cpu_percent .*\n/m, "");
    expect(withoutHelp).not.toBe(text);
    expect(await promtool(withoutHelp)).toMatchObject({ exitCode: 3, output: expect.stringContaining("no help text") });
  });

  test("an empty fleet is an empty exposition", () => {
    expect(renderMetrics({ samples: [], remotes: [], pulls: {}, alerts: [], now: NOW })).toBe("");
  });

  test("label value escaping", () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
  });
});

describe("metricsHandler", () => {
  test("serves the whole fleet with the exposition content type", async () => {
    const home = tempHome();
    const paths = amsPaths(home);
    const config = parseConfig(
      { server_id: "hub", remotes: [{ name: "web-2", host: "web-2", user: "ams" }] },
      "cfg.json",
    );
    fs.mkdirSync(paths.remoteDir, { recursive: true });
    fs.writeFileSync(paths.store, JSON.stringify([sample("hub", "CPU", 12, 0)]));
    // A remote copy in the original AMS's form: tagged with the remote's name.
    fs.writeFileSync(
      path.join(paths.remoteDir, "web-2_logs.json"),
      JSON.stringify([{ timestamp: "2026-11-25 14:03:00", metric_type: "RAM", value: "55.5%" }]),
    );
    await writePullStatus(paths, {
      "web-2": {
        last_attempt: "2026-11-25T13:08:00.000Z",
        last_success: "2026-11-25T13:08:00.000Z",
        duration_seconds: 0.3,
        records: 1,
      },
    });

    const handler = metricsHandler(paths, config, {
      firingAlerts: async () => [{ rule: "server_silent", server_id: "web-2", severity: "critical" }],
      now: () => NOW,
    });
    const server = http.createServer((req, res) => void handler(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
    try {
      const response = await fetch(url);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
      const body = await response.text();
      const lines = seriesLines(body);
      expect(lines).toContain('ams_cpu_percent{server="hub"} 12');
      expect(lines).toContain('ams_ram_percent{server="web-2"} 55.5');
      expect(lines).toContain('ams_remote_up{server="web-2"} 1');
      expect(lines).toContain('ams_alert_firing{rule="server_silent",server="web-2",severity="critical"} 1');
      expect(await promtool(body)).toEqual({ exitCode: 0, output: "" });

      const head = await fetch(url, { method: "HEAD" });
      expect(head.status).toBe(200);
      expect(await head.text()).toBe("");
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
