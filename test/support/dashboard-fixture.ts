import fs from "node:fs";
import path from "node:path";
import { formatJsonArray } from "../../storage/locked-file.js";
import type { Sample } from "../../storage/sample.js";
import { writeConfig } from "../helpers.js";

export const HOSTILE_SERVER = '"><script>';
export const HOSTILE_PROCESS = "<img src=x onerror=alert(1)>";

/** Six hours of samples, every ten minutes, of every built-in metric and one custom metric. */
export function fleetSamples(server: string, now: number, processName = "node"): Sample[] {
  const samples: Sample[] = [];
  for (let i = 36; i >= 0; i--) {
    const timestamp = new Date(now - i * 600_000).toISOString();
    const wave = 30 + 20 * Math.sin(i / 5);
    samples.push(
      { server_id: server, metric_type: "CPU", timestamp, value: Math.round(wave * 10) / 10, unit: "%" },
      { server_id: server, metric_type: "RAM", timestamp, value: 55, unit: "%" },
      {
        server_id: server,
        metric_type: "Disk",
        timestamp,
        value: 24,
        unit: "%",
        labels: { mount: "/" },
        details: { fs_type: "ext4" },
      },
      { server_id: server, metric_type: "Users", timestamp, value: i % 3, unit: "count" },
      { server_id: server, metric_type: "queue_depth", timestamp, value: i, unit: "jobs" },
      {
        server_id: server,
        metric_type: "Processes",
        timestamp,
        value: 140 + i,
        unit: "count",
        details: {
          top_cpu: [{ pid: 4242, name: processName, cpu_percent: 87.5, rss_bytes: 52428800 }],
          top_memory: [{ pid: 1, name: "systemd", cpu_percent: 0, rss_bytes: 10485760 }],
        },
      },
    );
  }
  return samples;
}

/**
 * A data home with this server ("web-1"), a server with a hostile name and process, a CERT
 * advisory, and a configured remote "evil" whose copy holds the same records: they name a server it
 * may not speak for, so they are skipped there, and the hostile server comes from the local store.
 */
export function writeFleetHome(home: string, now = Date.now()): void {
  writeConfig(home, { server_id: "web-1", remotes: [{ name: "evil", host: "evil.example.org", user: "ams" }] });
  fs.mkdirSync(path.join(home, "storage", "remote"), { recursive: true });
  const cert: Sample = {
    server_id: "web-1",
    metric_type: "CERT",
    timestamp: new Date(now).toISOString(),
    value: 1,
    unit: "advisory",
    details: {
      title: "Vulnérabilité <b>critique</b>",
      link: "https://www.cert.ssi.gouv.fr/alerte/CERTFR-2026-ALE-001/",
      published: new Date(now).toISOString(),
      id: "CERTFR-2026-ALE-001",
    },
  };
  fs.writeFileSync(
    path.join(home, "storage", "system_logs.json"),
    formatJsonArray([...fleetSamples("web-1", now), ...fleetSamples(HOSTILE_SERVER, now, HOSTILE_PROCESS), cert]),
  );
  fs.writeFileSync(
    path.join(home, "storage", "remote", "evil_logs.json"),
    formatJsonArray(fleetSamples(HOSTILE_SERVER, now, HOSTILE_PROCESS)),
  );
}

export const WEEK_SERVERS = Array.from({ length: 9 }, (_, i) => `srv-${String(i + 1).padStart(2, "0")}`);
/** A configured remote whose every pull failed: a card of its own, with the error. */
export const NEVER_REPORTED = "backup-nas";
export const FIRING_SERVER = "srv-03";
export const PENDING_SERVER = "srv-07";
export const REBOOTED_SERVER = "srv-05";
const TEN_MINUTES = 600_000;

/**
 * A week of samples every ten minutes: CPU, RAM, load, the root disk and users. srv-03's CPU has
 * been above 90 % for the last three hours (cpu_high fires) and was two days ago for an hour
 * (a resolved episode in the history); srv-07's load per CPU crossed 2 at the last sample
 * (load_high pending); srv-05 rebooted a day ago.
 */
function weekSamples(server: string, seed: number, now: number, samplesBack: number, step = TEN_MINUTES): Sample[] {
  const samples: Sample[] = [];
  for (let i = samplesBack - 1; i >= 0; i--) {
    const t = now - i * step;
    const timestamp = new Date(t).toISOString();
    const wave = Math.sin(t / (3600_000 * 4) + seed);
    let cpu = 35 + 20 * wave + ((i * 7 + seed * 13) % 11);
    if (server === FIRING_SERVER && (i < 18 || (i >= 288 && i < 294))) cpu = 93 + (i % 5);
    const loadPerCpu = server === PENDING_SERVER && i === 0 ? 2.4 : Math.max(0, 0.6 + 0.4 * wave);
    const round = (v: number, d = 1) => Math.round(v * 10 ** d) / 10 ** d;
    samples.push(
      { server_id: server, metric_type: "CPU", timestamp, value: round(cpu), unit: "%" },
      { server_id: server, metric_type: "RAM", timestamp, value: round(48 + seed * 3 + 6 * wave), unit: "%" },
      { server_id: server, metric_type: "LoadPerCPU", timestamp, value: round(loadPerCpu, 2), unit: "" },
      { server_id: server, metric_type: "Load1", timestamp, value: round(loadPerCpu * 4, 2), unit: "" },
      {
        server_id: server,
        metric_type: "Disk",
        timestamp,
        value: round(40 + seed * 5 + (samplesBack - i) / 200),
        unit: "%",
        labels: { mount: "/" },
        details: { fs_type: "ext4" },
      },
      { server_id: server, metric_type: "Users", timestamp, value: (i + seed) % 3, unit: "count" },
    );
  }
  if (server === REBOOTED_SERVER && samplesBack > 144) {
    const boot = new Date(now - 144 * TEN_MINUTES).toISOString();
    samples.push({
      server_id: server,
      metric_type: "Reboot",
      timestamp: boot,
      value: 1,
      unit: "event",
      details: { boot_time: boot },
    });
  }
  return samples;
}

/**
 * A data home of a hub watching ten servers: srv-01 (this one), srv-02 … srv-09 pulled, and
 * backup-nas never reachable; `samplesBack` samples every ten minutes (1008: a week). Run
 * ams-alert check on it to get the firing and the pending alert.
 */
export function writeWeekFleetHome(home: string, now = Date.now(), samplesBack = 1008): void {
  const remotes = [...WEEK_SERVERS.slice(1), NEVER_REPORTED].map((name) => ({
    name,
    host: `${name}.example.org`,
    user: "ams",
  }));
  writeConfig(home, { server_id: WEEK_SERVERS[0], remotes });
  fs.mkdirSync(path.join(home, "storage", "remote"), { recursive: true });
  fs.mkdirSync(path.join(home, "storage", "state"), { recursive: true });
  WEEK_SERVERS.forEach((server, i) => {
    const file =
      i === 0
        ? path.join(home, "storage", "system_logs.json")
        : path.join(home, "storage", "remote", `${server}_logs.json`);
    fs.writeFileSync(file, formatJsonArray(weekSamples(server, i, now, samplesBack)));
  });
  const pulls: Record<string, unknown> = {};
  for (const server of WEEK_SERVERS.slice(1)) {
    const at = new Date(now - 60_000).toISOString();
    pulls[server] = { first_attempt: at, last_attempt: at, last_success: at, duration_seconds: 0.4 };
  }
  pulls[NEVER_REPORTED] = {
    first_attempt: new Date(now - 3 * 3600_000).toISOString(),
    last_attempt: new Date(now - 60_000).toISOString(),
    last_error: "ssh: connect to host backup-nas.example.org port 22: No route to host",
    duration_seconds: 3.1,
  };
  fs.writeFileSync(path.join(home, "storage", "state", "remote-pulls.json"), JSON.stringify(pulls));
  if (samplesBack > 300) {
    // An episode two days ago, fired and resolved: a shaded period on srv-03's CPU chart.
    const episode = (event: "fired" | "resolved", at: number) => ({
      key: `cpu_high/${FIRING_SERVER}`,
      rule: "cpu_high",
      server_id: FIRING_SERVER,
      metric_type: "CPU",
      severity: "warning",
      event,
      at: new Date(at).toISOString(),
      since: new Date(now - 293 * TEN_MINUTES).toISOString(),
      value: 95,
      threshold: 90,
      message:
        event === "fired"
          ? "CPU 95 % on srv-03 (rule cpu_high: > 90 for 10 min)"
          : "CPU 40 % on srv-03, back to normal",
    });
    fs.writeFileSync(
      path.join(home, "storage", "alerts_log.json"),
      formatJsonArray([episode("fired", now - 292 * TEN_MINUTES), episode("resolved", now - 287 * TEN_MINUTES)]),
    );
  }
}

/** A fresh install: one server, `samples` samples `stepMinutes` apart (1: the first cron run; 8 every 2 min: 15 minutes). */
export function writeFreshHome(home: string, samples: number, stepMinutes = 2, now = Date.now()): void {
  writeConfig(home, { server_id: "srv-01" });
  fs.mkdirSync(path.join(home, "storage"), { recursive: true });
  fs.writeFileSync(
    path.join(home, "storage", "system_logs.json"),
    formatJsonArray(weekSamples("srv-01", 0, now, samples, stepMinutes * 60_000)),
  );
}
