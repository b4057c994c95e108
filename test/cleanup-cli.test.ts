import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { installDir } from "../lib/paths.js";
import { isoLocal } from "../lib/time.js";
import { parseConfig } from "../config/ams-config.js";
import { cleanupSamples } from "../storage/cleanup.js";
import { appendJsonArray, formatJsonArray, replaceJsonArrayText } from "../storage/locked-file.js";
import { isSample, type Sample } from "../storage/sample.js";
import { runCli, tempHome, writeConfig } from "./helpers.js";

const DAY = 86_400_000;

/** `count` samples of three series spread evenly over the `days` days before `now`. */
function store(count: number, days: number, now = Date.now()): Sample[] {
  const step = (days * DAY) / count;
  return Array.from({ length: count }, (_, i) => ({
    server_id: "web-1",
    metric_type: ["CPU", "RAM", "Disk"][i % 3]!,
    timestamp: isoLocal(new Date(now - days * DAY + i * step)),
    value: (i * 7) % 100,
    unit: "%",
    ...(i % 3 === 2 ? { labels: { mount: "/" } } : {}),
    details: { note: "padding to make the file realistic in size" },
  }));
}

function writeStore(home: string, samples: unknown[]): string {
  const file = path.join(home, "storage", "system_logs.json");
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, formatJsonArray(samples));
  return file;
}

describe("ams-cleanup", () => {
  test("consolidates this server's store, reports it, leaves remote copies alone", async () => {
    const home = tempHome();
    writeConfig(home, { server_id: "web-1", retention: { raw_days: 3 } });
    const file = writeStore(home, store(3000, 10));
    const remote = path.join(home, "storage", "remote", "db-1_logs.json");
    fs.mkdirSync(path.dirname(remote), { recursive: true });
    fs.writeFileSync(remote, formatJsonArray(store(300, 10)));
    const remoteBefore = fs.readFileSync(remote, "utf8");

    const dry = await runCli("ams-cleanup", ["samples", "--dry-run", "--home", home]);
    expect(dry.exitCode).toBe(0);
    expect(dry.stdout).toMatch(/^would change 3000 → \d+ records/);
    expect(JSON.parse(fs.readFileSync(file, "utf8"))).toHaveLength(3000);

    const result = await runCli("ams-cleanup", ["--home", home]);
    expect(result.exitCode).toBe(0);
    const after = JSON.parse(fs.readFileSync(file, "utf8")) as Sample[];
    const m =
      /^3000 → (\d+) records .*: (\d+) raw sample\(s\) consolidated into (\d+) hourly rollup\(s\), 0 expired/.exec(
        result.stdout,
      );
    expect(m).not.toBeNull();
    expect(after).toHaveLength(Number(m![1]));
    expect(after.filter((s) => s.rollup)).toHaveLength(Number(m![3]));
    expect(Number(m![2])).toBeGreaterThan(1500);
    expect(fs.readFileSync(remote, "utf8")).toBe(remoteBefore);
    expect(fs.readFileSync(path.join(home, "logs", "cleanup.log"), "utf8")).toContain(result.stdout.trim());
  });

  test("oldest raw sample inside consolidate_every: nothing written; past it: everything due is consolidated", async () => {
    const home = tempHome();
    writeConfig(home, { server_id: "web-1", retention: { raw_days: 3, consolidate_every: "1d" } });
    const now = Date.now();
    const file = writeStore(home, store(3000, 3.5, now));
    const before = fs.statSync(file);
    const text = fs.readFileSync(file, "utf8");

    const dry = await runCli("ams-cleanup", ["--dry-run", "--home", home], {
      env: { AMS_NOW: new Date(now).toISOString() },
    });
    expect(dry.stdout).toMatch(/^\(dry run\) 3000 records .*, nothing written: \d+ raw sample\(s\) .* next batch due /);
    const waiting = await runCli("ams-cleanup", ["--home", home], { env: { AMS_NOW: new Date(now).toISOString() } });
    expect(waiting.exitCode).toBe(0);
    expect(waiting.stdout).toMatch(
      /^3000 records \(.* MiB\), nothing written: (\d+) raw sample\(s\) past raw_days wait/,
    );
    expect(Number(/: (\d+) raw sample/.exec(waiting.stdout)![1])).toBeGreaterThan(300);
    const after = fs.statSync(file);
    expect([after.ino, after.mtimeMs, after.ctimeMs]).toEqual([before.ino, before.mtimeMs, before.ctimeMs]);
    expect(fs.readFileSync(file, "utf8")).toBe(text);

    const later = now + DAY;
    const due = await runCli("ams-cleanup", ["--home", home], { env: { AMS_NOW: new Date(later).toISOString() } });
    expect(due.exitCode).toBe(0);
    const cutoff = Math.floor((later - 3 * DAY) / 3_600_000) * 3_600_000;
    const older = store(3000, 3.5, now).filter((s) => Date.parse(s.timestamp) < cutoff);
    expect(due.stdout).toContain(`: ${older.length} raw sample(s) consolidated into`);
    const kept = (JSON.parse(fs.readFileSync(file, "utf8")) as Sample[]).filter((s) => !s.rollup);
    expect(kept).toEqual(store(3000, 3.5, now).filter((s) => Date.parse(s.timestamp) >= cutoff));
  });

  test("the rewritten store is byte for byte what rewriting the whole array wrote, whatever its layout", async () => {
    const now = Date.now();
    const samples: unknown[] = store(3000, 10, now);
    // Text beyond ASCII, both in a record consolidated and in one kept as it is; a record of the
    // original AMS and one that fits no form.
    const unicode = (s: Sample) => ({ ...s, labels: { mount: "/données ☕" }, details: { note: "naïve 🚀" } });
    samples[10] = unicode(samples[10] as Sample);
    samples[2990] = unicode(samples[2990] as Sample);
    samples.splice(5, 0, { metric_type: "RAM", timestamp: "2020-01-01 00:00:00", value: "10%" }, "garbage");
    const config = parseConfig({ server_id: "web-1" }, "ams.config.json");
    const expected = formatJsonArray(
      cleanupSamples(samples, { retention: config.retention, now: new Date(now), fallbackServerId: "web-1" }).records,
    );
    const run = async (write: (file: string) => Promise<void>) => {
      const home = tempHome();
      writeConfig(home, { server_id: "web-1" });
      const file = path.join(home, "storage", "system_logs.json");
      fs.mkdirSync(path.dirname(file), { recursive: true });
      await write(file);
      const result = await runCli("ams-cleanup", ["--home", home], { env: { AMS_NOW: new Date(now).toISOString() } });
      expect(result.exitCode).toBe(0);
      expect(result.stdout).toMatch(/ 1 unreadable record\(s\) left untouched$/m);
      return fs.readFileSync(file, "utf8");
    };
    // As AMS writes it, with appends in place after it (lines holding only ",").
    const appended = await run(async (file) => {
      await replaceJsonArrayText(file, formatJsonArray(samples.slice(0, 1000)), async () => undefined);
      for (let i = 1000; i < samples.length; i += 700) await appendJsonArray(file, samples.slice(i, i + 700));
      expect(fs.readFileSync(file, "utf8")).toMatch(/\n,\n/);
    });
    expect(appended).toBe(expected);
    // Laid out by someone else: read whole, same result.
    const pretty = await run(async (file) => fs.writeFileSync(file, JSON.stringify(samples, null, 2)));
    expect(pretty).toBe(expected);
  });

  test("an append cut short is read around as by every reader: its tail kept beside, the store written back whole", async () => {
    const home = tempHome();
    writeConfig(home, { server_id: "web-1" });
    const now = Date.now();
    const whole = formatJsonArray(store(300, 2, now));
    const file = writeStore(home, []);
    const tail = '{"server_id":"web-1","metric_type":"CPU","timest';
    fs.writeFileSync(file, `${whole}${tail}`);
    const result = await runCli("ams-cleanup", ["--home", home], { env: { AMS_NOW: new Date(now).toISOString() } });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^300 records .*, nothing written: next batch due /);
    expect(fs.readFileSync(file, "utf8")).toBe(whole);
    const torn = fs.readdirSync(path.dirname(file)).filter((f) => f.includes(".torn-"));
    expect(torn.map((f) => fs.readFileSync(path.join(path.dirname(file), f), "utf8"))).toEqual([`\n${tail}`]);
  });

  test("an unknown subcommand is a usage error", async () => {
    const result = await runCli("ams-cleanup", ["bogus", "--home", tempHome()]);
    expect(result.exitCode).toBe(2);
  });

  test("kill -9 at random moments leaves the previous store or the cleaned one, never a broken file", async () => {
    const home = tempHome();
    writeConfig(home, { server_id: "web-1" });
    const original = formatJsonArray(store(60_000, 14));
    const file = writeStore(home, JSON.parse(original));
    const cli = path.join(installDir, "dist", "ams-cleanup.js");

    // How long a whole run takes here, on a copy, so the kills land across all of it.
    const probe = tempHome();
    writeConfig(probe, { server_id: "web-1" });
    writeStore(probe, JSON.parse(original));
    const started = Date.now();
    expect((await execa(process.execPath, [cli, "--home", probe])).exitCode).toBe(0);
    const fullRun = Date.now() - started;
    const cleaned = JSON.parse(fs.readFileSync(path.join(probe, "storage", "system_logs.json"), "utf8")) as unknown[];

    let killedMidRun = 0;
    for (let i = 0; i < 5; i++) {
      const child = execa(process.execPath, [cli, "--home", home], { reject: false });
      await new Promise((r) => setTimeout(r, fullRun * (0.2 + 0.8 * Math.random())));
      child.kill("SIGKILL");
      const outcome = await child;
      if (outcome.signal === "SIGKILL") killedMidRun++;
      const text = fs.readFileSync(file, "utf8");
      if (text !== original) {
        const records = JSON.parse(text) as unknown[];
        expect(records.length).toBeGreaterThan(cleaned.length - 10);
        expect(records.length).toBeLessThan(cleaned.length + 10);
        for (const r of records) expect(isSample(r)).toBe(true);
        fs.writeFileSync(file, original); // start the next round from the uncleaned store again
      }
      // A killed holder's lock would be taken over after 20 s; removing it keeps the test short.
      fs.rmSync(`${file}.lock`, { recursive: true, force: true });
    }
    expect(killedMidRun).toBeGreaterThan(0);
    const final = await runCli("ams-cleanup", ["--home", home]);
    expect(final.exitCode).toBe(0);
    expect(JSON.parse(fs.readFileSync(file, "utf8"))).toHaveLength(cleaned.length);
  }, 120_000);
});
