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
