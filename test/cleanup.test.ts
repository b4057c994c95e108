import { cleanupSamples } from "../storage/cleanup.js";
import { seriesKey } from "../storage/series-key.js";
import { RetentionConfig, type RetentionOptions } from "../storage/retention-config.js";
import { normalizeRecord, type Sample } from "../storage/sample.js";
import fs from "node:fs";
import path from "node:path";
import { parseConfig } from "../config/ams-config.js";
import { installDir } from "../lib/paths.js";
import { isoLocal } from "../lib/time.js";

const NOW = new Date("2026-11-25T12:34:56.000Z");
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const retention = (over: Partial<RetentionOptions> = {}): RetentionOptions => ({
  ...RetentionConfig.parse({}),
  ...over,
});

/** Every 5 minutes for `days` days before NOW: CPU, and Disk on two mounts, with varied values. */
function syntheticWeek(days: number): Sample[] {
  const samples: Sample[] = [];
  for (let t = NOW.getTime() - days * DAY; t <= NOW.getTime(); t += 5 * 60_000) {
    const i = samples.length;
    const timestamp = isoLocal(new Date(t));
    samples.push({ server_id: "web-1", metric_type: "CPU", timestamp, value: (i * 37) % 101, unit: "%" });
    samples.push({
      server_id: "web-1",
      metric_type: "Disk",
      timestamp,
      value: 20 + (i % 7),
      unit: "%",
      labels: { mount: "/" },
    });
    samples.push({
      server_id: "web-1",
      metric_type: "Disk",
      timestamp,
      value: 60 + (i % 3) / 3,
      unit: "%",
      labels: { mount: "/var" },
    });
  }
  return samples;
}

const run = (records: unknown[], over: Partial<RetentionOptions> = {}, now = NOW) =>
  cleanupSamples(records, { retention: retention(over), now, fallbackServerId: "web-1" });
const asSamples = (records: unknown[]) => records.map((r) => normalizeRecord(r, "web-1")!);

describe("cleanupSamples", () => {
  const week = syntheticWeek(7);
  const { records, report } = run(week, { raw_days: 2 });
  const out = asSamples(records);
  const raw = out.filter((s) => !s.rollup);
  const rollups = out.filter((s) => s.rollup);
  // The cutoff is hour-aligned so that an hour is consolidated once, whole.
  const cutoff = Math.floor((NOW.getTime() - 2 * DAY) / HOUR) * HOUR;

  test("raw samples remain only for the configured days", () => {
    expect(raw.length).toBeGreaterThan(0);
    const oldest = Math.min(...raw.map((s) => Date.parse(s.timestamp)));
    expect(oldest).toBeGreaterThanOrEqual(cutoff);
    expect(oldest).toBeLessThan(cutoff + 5 * 60_000);
    expect(raw).toEqual(week.filter((s) => Date.parse(s.timestamp) >= cutoff));
    expect(report.keptRaw).toBe(raw.length);
  });

  test("each hourly rollup holds the mean, min, max and count of the raw samples it replaces", () => {
    const replaced = week.filter((s) => Date.parse(s.timestamp) < cutoff);
    expect(report.consolidated).toBe(replaced.length);
    const groups = new Map<string, number[]>();
    for (const s of replaced) {
      const key = `${seriesKey(s)}@${Math.floor(Date.parse(s.timestamp) / HOUR) * HOUR}`;
      groups.set(key, [...(groups.get(key) ?? []), s.value]);
    }
    expect(rollups).toHaveLength(groups.size);
    expect(report.rollupsWritten).toBe(groups.size);
    for (const r of rollups) {
      const values = groups.get(`${seriesKey(r)}@${Date.parse(r.timestamp)}`)!;
      expect(values).toBeDefined();
      expect(r.value).toBeCloseTo(values.reduce((a, b) => a + b, 0) / values.length, 10);
      expect(r.rollup).toEqual({
        period_seconds: 3600,
        count: values.length,
        min: Math.min(...values),
        max: Math.max(...values),
      });
      expect(Date.parse(r.timestamp) % HOUR).toBe(0);
    }
    expect(rollups.filter((r) => r.labels?.mount === "/var")).toHaveLength(groups.size / 3);
  });

  test("a second run changes nothing; an hour aging out later is added, not split", () => {
    expect(run(records, { raw_days: 2 }).records).toEqual(records);
    const later = run(records, { raw_days: 2 }, new Date(NOW.getTime() + HOUR));
    const added = asSamples(later.records).filter((s) => s.rollup);
    expect(added).toHaveLength(rollups.length + 3);
    expect(later.report.consolidated).toBe(3 * 12);
  });

  test("late raw samples of an hour already rolled up are merged into its rollup", () => {
    const old = rollups[0]!;
    const late: Sample = {
      ...raw[0]!,
      labels: old.labels,
      metric_type: old.metric_type,
      timestamp: old.timestamp,
      value: 100, // the highest a percentage may be: above the hour's own maximum or equal to it
    };
    const merged = asSamples(run([...records, late], { raw_days: 2 }).records).filter(
      (s) => s.rollup && s.timestamp === old.timestamp && seriesKey(s) === seriesKey(old),
    );
    expect(merged).toHaveLength(1);
    const count = old.rollup!.count;
    expect(merged[0]!.rollup).toEqual({ period_seconds: 3600, count: count + 1, min: old.rollup!.min, max: 100 });
    expect(merged[0]!.value).toBeCloseTo((old.value * count + 100) / (count + 1), 10);
  });

  test("a 30-day chart still has data every day, from the rollups; older data expires", () => {
    const month = syntheticWeek(40);
    const result = asSamples(run(month, { raw_days: 7, rollup_days: 30 }).records);
    const days = new Set(result.map((s) => Math.floor((NOW.getTime() - Date.parse(s.timestamp)) / DAY)));
    for (let d = 0; d < 30; d++) expect(days.has(d)).toBe(true);
    expect(Math.max(...days)).toBe(30);
    expect(result.filter((s) => s.rollup).length).toBeGreaterThan(22 * 24 * 3);
    expect(result.length).toBeLessThan(month.length / 4);
  });

  test("CERT advisories are never averaged: the newest cert_keep per server stay, whatever their age", () => {
    const cert = (i: number, server = "web-1"): Sample => ({
      server_id: server,
      metric_type: "CERT",
      timestamp: isoLocal(new Date(NOW.getTime() - i * 10 * DAY)),
      value: 1,
      unit: "advisory",
      details: { title: `advisory ${i}`, link: `https://example.org/${i}` },
    });
    const input = [cert(20), cert(1), cert(15), cert(2), cert(30, "db-1")];
    const { records: kept, report: r } = run(input, { cert_keep: 2, rollup_days: 90 });
    expect(kept).toEqual([cert(1), cert(2), cert(30, "db-1")]);
    expect(r.certDropped).toBe(2);
  });

  test("the size cap drops the oldest records first", () => {
    const input = syntheticWeek(1);
    const { records: capped, report: r } = run(input, { max_bytes: 20_000 });
    expect(r.capped).toBeGreaterThan(0);
    expect(r.bytesAfter).toBeLessThanOrEqual(20_000);
    expect(capped).toEqual(input.slice(input.length - capped.length));
  });

  test("original AMS records are consolidated too; unreadable records are left untouched", () => {
    const when = new Date(NOW.getTime() - 10 * DAY);
    const pad = (n: number) => String(n).padStart(2, "0");
    const stamp = (min: number) =>
      `${when.getFullYear()}-${pad(when.getMonth() + 1)}-${pad(when.getDate())} ${pad(when.getHours())}:${pad(min)}:00`;
    const input = [
      { metric_type: "RAM", timestamp: stamp(1), value: "10%" },
      { metric_type: "RAM", timestamp: stamp(2), value: "20%" },
      "garbage",
      { x: 1 },
    ];
    const { records: out2, report: r } = run(input);
    expect(out2.slice(1)).toEqual(["garbage", { x: 1 }]);
    expect(r.unreadable).toBe(2);
    expect(out2[0]).toMatchObject({
      server_id: "web-1",
      metric_type: "RAM",
      value: 15,
      unit: "%",
      rollup: { count: 2, min: 10, max: 20 },
    });
  });

  describe("batches: the store is rewritten only when there is enough to do (consolidate_every)", () => {
    const hours = (n: number) => n * HOUR;
    /** Raw samples every 5 minutes from `oldest` ago up to NOW. */
    const since = (oldest: number) => syntheticWeek(oldest / DAY);
    const every = { raw_days: 2, consolidate_every: DAY / 1000 };

    test("raw samples up to raw_days + consolidate_every old: nothing is due, and when it will be is said", () => {
      const { report: r } = run(since(2 * DAY + hours(20)), every);
      expect(r.consolidated).toBeGreaterThan(0);
      expect(r.due).toBe(false);
      // The oldest sample's hour, one hour for all of it to age, raw_days, then the slack.
      const oldestHour = Math.floor((NOW.getTime() - 2 * DAY - hours(20)) / HOUR) * HOUR;
      expect(r.dueAt).toBe(oldestHour + HOUR + 2 * DAY + DAY);
      expect(run(since(2 * DAY + hours(20)), every, new Date(r.dueAt!)).report.due).toBe(true);
      expect(run(since(2 * DAY + hours(20)), every, new Date(r.dueAt! - 1)).report.due).toBe(false);
    });

    test("past the slack: due, and everything older than raw_days is consolidated at once", () => {
      const input = since(3 * DAY + hours(2));
      const { records: out2, report: r } = run(input, every);
      expect(r.due).toBe(true);
      const cutoff = Math.floor((NOW.getTime() - 2 * DAY) / HOUR) * HOUR;
      expect(r.consolidated).toBe(input.filter((s) => Date.parse(s.timestamp) < cutoff).length);
      const raw = asSamples(out2).filter((s) => !s.rollup);
      expect(Math.min(...raw.map((s) => Date.parse(s.timestamp)))).toBeGreaterThanOrEqual(cutoff);
      // Right after it, nothing is due for about consolidate_every.
      const after = run(out2, every, new Date(NOW.getTime() + hours(23)));
      expect(after.report.due).toBe(false);
      expect(after.report.consolidated).toBe(23 * 12 * 3);
      expect(run(out2, every, new Date(NOW.getTime() + hours(25))).report.due).toBe(true);
    });

    test("rollups past rollup_days go in batches too", () => {
      const old = asSamples(run(since(10 * DAY), { raw_days: 2, rollup_days: 5 }).records);
      const expiring = { raw_days: 2, rollup_days: 5, consolidate_every: DAY / 1000 };
      // Ten days of data, everything older than 5 days already expired: 4 hours later, 4 hours of
      // rollups are past rollup_days (and of raw samples past raw_days), all inside the slack.
      const soon = run(old, expiring, new Date(NOW.getTime() + hours(4)));
      expect(soon.report.expired).toBe(4 * 3);
      expect(soon.report.due).toBe(false);
      const later = run(old, expiring, new Date(NOW.getTime() + DAY + hours(2)));
      expect(later.report.due).toBe(true);
      expect(later.report.expired).toBe(26 * 3);
      const rollups = asSamples(later.records).filter((s) => s.rollup);
      const rollupCutoff = Math.floor((NOW.getTime() + DAY + hours(2) - 5 * DAY) / HOUR) * HOUR;
      expect(Math.min(...rollups.map((s) => Date.parse(s.timestamp)))).toBe(rollupCutoff);
    });

    test("a store past max_bytes is capped at once, whatever the slack", () => {
      const input = since(DAY);
      const { records: capped, report: r } = run(input, { ...every, max_bytes: 20_000 });
      expect(r.consolidated).toBe(0);
      expect(r.capped).toBeGreaterThan(0);
      expect(r.due).toBe(true);
      expect(capped).toEqual(input.slice(input.length - capped.length));
    });

    test("CERT advisories past cert_keep wait for the next batch; consolidate_every 0 makes any change due", () => {
      const cert = (i: number): Sample => ({
        server_id: "web-1",
        metric_type: "CERT",
        timestamp: isoLocal(new Date(NOW.getTime() - i * HOUR)),
        value: 1,
        unit: "advisory",
        details: { title: `advisory ${i}`, link: `https://example.org/${i}` },
      });
      const input = [cert(3), cert(2), cert(1), ...since(2 * DAY + hours(3))];
      const batched = run(input, { ...every, cert_keep: 2 }).report;
      expect(batched.certDropped).toBe(1);
      expect(batched.due).toBe(false);
      const eager = run(input, { ...every, cert_keep: 2, consolidate_every: 0 }).report;
      expect(eager.due).toBe(true);
      expect(run(since(DAY), { consolidate_every: 0 }).report.due).toBe(false);
    });

    test("an empty store has nothing due, and no date for it", () => {
      expect(run([], every).report).toMatchObject({ due: false, dueAt: undefined, recordsAfter: 0 });
    });
  });

  test("retention config is validated", () => {
    expect(RetentionConfig.parse({ consolidate_every: "12h" }).consolidate_every).toBe(43_200);
    expect(RetentionConfig.parse({}).consolidate_every).toBe(86_400);
    const parsed = (consolidate_every: unknown) => () =>
      parseConfig({ retention: { consolidate_every } }, "ams.config.json");
    expect(parsed("8d")).toThrow(/retention\.consolidate_every.*at most 7d/);
    expect(parsed("soon")).toThrow(/retention\.consolidate_every.*expected a duration/);
    expect(() => RetentionConfig.parse({ raw_days: 10, rollup_days: 5 })).toThrow(
      "rollup_days must be at least raw_days",
    );
    expect(() => RetentionConfig.parse({ max_bytes: -1 })).toThrow();
  });

  test("ams.config.example.json documents the defaults of retention, backups and logs", () => {
    const example = JSON.parse(fs.readFileSync(path.join(installDir, "ams.config.example.json"), "utf8"));
    const documented = parseConfig(example, "example");
    const defaults = parseConfig({}, "defaults");
    for (const key of ["retention", "backups", "logs"] as const) {
      // Every key shown (a duration as the text a user writes, "1d"), each at its default.
      expect(Object.keys(example[key]).sort()).toEqual(Object.keys(defaults[key]).sort());
      expect(documented[key]).toEqual(defaults[key]);
    }
  });
});
