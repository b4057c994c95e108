// Shared by the benchmark scripts: stores shaped like the real sensors' (every field, with their
// `details`), taken from what the built sensors print on this machine, repeated over past days at
// the periods of crontab.example, and a loopback copy of the CERT-FR feeds for the cert sensor.
import { execFile, execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { installDir } from "../lib/paths.js";
import { isoLocal } from "../lib/time.js";
import type { Sample } from "../storage/sample.js";
import { cronMinutes, scheduledJobs, type BlockOptions } from "./crontab-block.js";

const MINUTE = 60_000;

/** One `ams-sensor` line of crontab.example: its period in minutes and the sensors it names. */
export interface SensorLine {
  minutes: number;
  sensors: string[];
}

/** crontab.example's job lines, rendered with this install's paths and `home`, less those `options` leave out. */
export function scheduleLines(home: string, options: BlockOptions = {}): string[] {
  const template = fs.readFileSync(path.join(installDir, "crontab.example"), "utf8");
  return scheduledJobs(template, { node: process.execPath, installDir, home }, options);
}

/**
 * The sensors of crontab.example grouped by period as the installer schedules them (sensors due at
 * the same minutes run together): each group's period in minutes and its sensors.
 */
export function sensorLines(): SensorLine[] {
  const minutesOf = new Map<string, number[]>();
  for (const line of scheduleLines("/h")) {
    const match = /^(\S+)(?:\s+\S+){4}\s+.*ams-sensor\.js ([^-]+?) --home/.exec(line);
    if (!match) continue;
    for (const sensor of match[2]!.split(/\s+/))
      minutesOf.set(sensor, [...(minutesOf.get(sensor) ?? []), ...cronMinutes(match[1]!)!]);
  }
  const groups = new Map<number, string[]>();
  for (const [sensor, minutes] of minutesOf)
    groups.set(60 / minutes.length, [...(groups.get(60 / minutes.length) ?? []), sensor]);
  return [...groups].map(([minutes, sensors]) => ({ minutes, sensors }));
}

/** Serves test/fixtures/certfr-feed.xml on loopback as both CERT-FR feeds; the config's `sensors.cert` section. */
export async function serveCertFeeds(): Promise<{ config: { feeds: string[] }; close: () => Promise<void> }> {
  const feed = fs.readFileSync(path.join(installDir, "test", "fixtures", "certfr-feed.xml"));
  const server = http.createServer((_req, res) =>
    res.writeHead(200, { "content-type": "application/rss+xml" }).end(feed),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    config: { feeds: [`http://127.0.0.1:${port}/alerte/feed/`, `http://127.0.0.1:${port}/avis/feed/`] },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** What each sensor line of crontab.example stores per run on this machine, and the CERT records of the fixture feeds. */
export interface RealShapes {
  lines: { minutes: number; records: Sample[] }[];
  cert: Sample[];
}

/** Runs the built sensors once (dry run, in a throwaway home) and keeps what they print. */
export async function captureRealShapes(): Promise<RealShapes> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "ams-bench-shapes-"));
  const feeds = await serveCertFeeds();
  try {
    fs.writeFileSync(path.join(home, "ams.config.json"), JSON.stringify({ sensors: { cert: feeds.config } }));
    const run = (sensors: string[]) =>
      JSON.parse(
        execFileSync(
          process.execPath,
          [path.join(installDir, "dist", "ams-sensor.js"), ...sensors, "--json", "--dry-run", "--home", home],
          { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] },
        ),
      ) as Sample[];
    const lines = sensorLines().filter((line) => !line.sensors.includes("cert"));
    // The first run saves the counters the rate sensors (cpu, net, diskio, processes) need.
    for (const line of lines) run(line.sensors);
    // cert is fetched asynchronously from this process's server: execFileSync would block it.
    const { stdout: certText } = await promisify(execFile)(process.execPath, [
      path.join(installDir, "dist", "ams-sensor.js"),
      "cert",
      "--json",
      "--dry-run",
      "--home",
      home,
    ]);
    return {
      lines: lines.map((line) => ({ minutes: line.minutes, records: run(line.sensors) })),
      cert: JSON.parse(certText) as Sample[],
    };
  } finally {
    await feeds.close();
    fs.rmSync(home, { recursive: true, force: true });
  }
}

/** A value near `value`, kept within 0–100 for a percentage. */
function jitter(value: number, unit: string, t: number, seed: number): number {
  const wave = 1 + 0.2 * Math.sin(t / (3 * 3600_000) + seed) + 0.05 * (Math.random() - 0.5);
  const next = Math.round(value * wave * 100) / 100;
  return unit === "%" ? Math.min(100, Math.max(0, next)) : next;
}

/**
 * `days` of records for `server` ending at `now`: each sensor line's records at its period, with
 * the fields and `details` the real sensors write, values varying around the captured ones.
 */
export function realRecords(shapes: RealShapes, server: string, now: number, days: number, seed = 0): Sample[] {
  const records: Sample[] = [];
  const start = now - days * 1440 * MINUTE;
  for (const line of shapes.lines)
    for (let t = start; t <= now; t += line.minutes * MINUTE)
      for (const record of line.records)
        records.push({
          ...record,
          server_id: server,
          timestamp: isoLocal(new Date(t)),
          value: jitter(record.value, record.unit, t, seed),
        });
  for (const advisory of shapes.cert)
    records.push({ ...advisory, server_id: server, timestamp: isoLocal(new Date(start)) });
  return records.sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp));
}
