import fs from "node:fs";
import path from "node:path";
import type { Paths } from "../../lib/paths.js";
import { remoteCopy } from "../../storage/fleet.js";
import { appendJsonArray, formatJsonArray } from "../../storage/locked-file.js";
import type { Sample } from "../../storage/sample.js";
import { writeConfig } from "../helpers.js";
import { fleetSamples } from "./dashboard-fixture.js";

export const NOW = Date.parse("2026-11-25T12:00:00Z");
export const HOUR = 3600_000;

/** "2026-11-24 09:30:00": the original AMS's local-time stamp. */
function legacyStamp(t: number): string {
  const d = new Date(t);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/**
 * A hub ("hub") whose own store also holds "web-2" and records of the original AMS (no server_id),
 * 40 days of hourly rollups (so the 90-day range is drawn) and a reboot; remote "r1" relays
 * "web-2" too (same times, other values: the later source wins) and sends a record of a server
 * it may not speak for; remote "r2" sends records without a server_id.
 */
export function writeMultiSourceHome(home: string): void {
  writeConfig(home, {
    server_id: "hub",
    remotes: [
      { name: "r1", host: "r1.example.org", user: "ams", may_speak_for: ["web-2"] },
      { name: "r2", host: "r2.example.org", user: "ams" },
    ],
  });
  fs.mkdirSync(path.join(home, "storage", "remote"), { recursive: true });
  const rollups: Sample[] = Array.from({ length: 40 * 24 - 48 }, (_, i) => ({
    server_id: "hub",
    metric_type: "CPU",
    timestamp: new Date(NOW - (40 * 24 - i) * HOUR).toISOString(),
    value: 20 + (i % 7),
    unit: "%",
    rollup: { period_seconds: 3600, count: 12, min: 5, max: 60 + (i % 30) },
  }));
  const legacy = Array.from({ length: 12 }, (_, i) => ({
    metric_type: "CPU",
    timestamp: legacyStamp(NOW - 26 * HOUR + i * 300_000),
    value: `${10 + i}%`,
  }));
  const boot = new Date(NOW - 2 * HOUR).toISOString();
  fs.writeFileSync(
    path.join(home, "storage", "system_logs.json"),
    formatJsonArray([
      ...rollups,
      ...fleetSamples("hub", NOW),
      ...legacy,
      {
        metric_type: "Security Alert: Faille ancienne",
        timestamp: legacyStamp(NOW - 50 * HOUR),
        value: "https://cert.example/1",
      },
      ...fleetSamples("web-2", NOW - HOUR),
      // Values no power of ten makes whole: kept as they are.
      ...[1, 2, 3].map((i) => ({
        server_id: "hub",
        metric_type: "entropy",
        timestamp: new Date(NOW - i * 600_000).toISOString(),
        value: i / 3,
        unit: "",
      })),
      {
        server_id: "web-2",
        metric_type: "Reboot",
        timestamp: boot,
        value: 1,
        unit: "event",
        details: { boot_time: boot },
      },
      { not: "a sample" },
    ]),
  );
  fs.writeFileSync(
    path.join(home, "storage", "remote", "r1_logs.json"),
    formatJsonArray([
      ...fleetSamples("r1", NOW),
      ...fleetSamples("web-2", NOW - HOUR).map((s) => ({ ...s, value: s.value + 1 })),
      ...fleetSamples("intruder", NOW).slice(0, 3),
    ]),
  );
  fs.writeFileSync(
    path.join(home, "storage", "remote", "r2_logs.json"),
    formatJsonArray(
      fleetSamples("r2", NOW - 2 * HOUR).map((sample) => {
        const record: Partial<Sample> = { ...sample };
        delete record.server_id;
        return record;
      }),
    ),
  );
}

const at = (t: number) => new Date(t).toISOString();

/** Samples appended after the home's: more of the known series, a new series, a first rollup, an event. */
export function later(server: string, from: number): Sample[] {
  return [
    ...[1, 2, 3].map((i) => ({
      server_id: server,
      metric_type: "Users",
      timestamp: at(from + i * 60_000),
      value: i,
      unit: "",
    })),
    { server_id: server, metric_type: "Load1", timestamp: at(from + 60_000), value: 0.5, unit: "" },
    {
      server_id: server,
      metric_type: "Users",
      timestamp: at(from - 30 * HOUR),
      value: 2.5,
      unit: "",
      rollup: { period_seconds: 3600, count: 12, min: 1, max: 4 },
    },
    {
      server_id: server,
      metric_type: "Reboot",
      timestamp: at(from),
      value: 1,
      unit: "event",
      details: { boot_time: at(from) },
    },
  ];
}

/**
 * The home's stores written once more by AMS's writer (the fixture wrote them by hand), which then
 * appends to them in place: a first append each.
 */
export async function writtenByAms(paths: Paths): Promise<void> {
  for (const [file, server] of [
    [paths.store, "hub"],
    [remoteCopy(paths, "r1"), "r1"],
    [remoteCopy(paths, "r2"), "r2"],
  ] as const)
    await appendJsonArray(file, later(server, NOW - HOUR).slice(0, 1));
}
