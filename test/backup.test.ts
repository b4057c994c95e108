import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { createBackup, restoreBackup } from "../backups/backup.js";
import { snapshotsToDelete } from "../backups/rotation.js";
import { amsPaths } from "../lib/paths.js";
import { decodeSnapshot, encodeSnapshot, InvalidSnapshotError } from "../backups/snapshot.js";
import { formatJsonArray } from "../storage/locked-file.js";
import { runCli, tempHome, writeConfig } from "./helpers.js";

const HOUR = 3_600_000;

describe("snapshot rotation", () => {
  test("keeps the newest of each of the last N hours and of the last M days", () => {
    const start = Date.UTC(2026, 10, 1, 0, 30);
    // Every 30 minutes for 5 days.
    const snapshots = Array.from({ length: 240 }, (_, i) => ({
      name: `s${String(i).padStart(3, "0")}`,
      time: start + (i * HOUR) / 2,
    }));
    const deleted = new Set(snapshotsToDelete(snapshots, 6, 3));
    const kept = snapshots.filter((s) => !deleted.has(s.name));
    // s239 is Nov 6 00:00, alone in its hour and its day; then the :30 one of each earlier hour
    // (s238 = Nov 5 23:30 is also Nov 5's newest); s190 = Nov 4 23:30 is the third day's.
    expect(kept.map((s) => s.name)).toEqual(["s190", "s230", "s232", "s234", "s236", "s238", "s239"]);
    expect(snapshotsToDelete(kept, 6, 3)).toEqual([]);
  });
});

describe("snapshot format", () => {
  const files = [
    { name: "system_logs.json" as const, content: formatJsonArray([{ a: 1 }, { b: "é" }]) },
    { name: "alerts_log.json" as const, content: null },
  ];

  test("round trip keeps the exact text", () => {
    const { data } = encodeSnapshot(files, "2026-11-25T00:00:00.000Z");
    expect(decodeSnapshot(data).files.map((f) => [f.name, f.content, f.records])).toEqual([
      ["system_logs.json", files[0]!.content, 2],
      ["alerts_log.json", null, 0],
    ]);
  });

  test("truncation, a changed document and a non-array store are refused", () => {
    const { data } = encodeSnapshot(files, "2026-11-25T00:00:00.000Z");
    expect(() => decodeSnapshot(data.subarray(0, data.length - 10))).toThrow(/truncated or damaged/);
    const doc = JSON.parse(zlib.gunzipSync(data).toString());
    doc.files[0].content = formatJsonArray([{ a: 2 }, { b: "é" }]);
    expect(() => decodeSnapshot(zlib.gzipSync(JSON.stringify(doc)))).toThrow(
      "system_logs.json: sha256 does not match its content",
    );
    expect(() => encodeSnapshot([{ name: "system_logs.json", content: "{}" }], "x")).toThrow(InvalidSnapshotError);
  });
});

describe("ams-backup", () => {
  function seed(home: string) {
    const store = path.join(home, "storage", "system_logs.json");
    const alerts = path.join(home, "storage", "alerts_log.json");
    fs.mkdirSync(path.dirname(store), { recursive: true });
    const records = Array.from({ length: 500 }, (_, i) => ({
      server_id: "web-1",
      metric_type: "CPU",
      timestamp: `2026-11-25T10:${String(i % 60).padStart(2, "0")}:00.000+01:00`,
      value: i / 3,
      unit: "%",
    }));
    fs.writeFileSync(store, formatJsonArray(records));
    fs.writeFileSync(
      alerts,
      formatJsonArray([{ key: "k", rule: "cpu", event: "fired", message: "CPU 95 % on web-1" }]),
    );
    return { store, alerts };
  }

  test("create → restore gives back the exact files, after setting the current ones aside", async () => {
    const home = tempHome();
    const { store, alerts } = seed(home);
    const storeText = fs.readFileSync(store, "utf8");
    const alertsText = fs.readFileSync(alerts, "utf8");

    const created = await runCli("ams-backup", ["--home", home]);
    expect(created.stderr).toBe("");
    expect(created.exitCode).toBe(0);
    expect(created.stdout).toMatch(/system_logs\.json: 500 records, alerts_log\.json: 1 records/);
    const [name] = fs.readdirSync(path.join(home, "backups"));
    expect(name).toMatch(/^ams-\d{8}T\d{6}Z\.json\.gz$/);

    fs.writeFileSync(store, formatJsonArray([{ changed: true }]));
    fs.rmSync(alerts);
    const restored = await runCli("ams-backup", ["restore", name!, "--home", home]);
    expect(restored.exitCode).toBe(0);
    expect(fs.readFileSync(store, "utf8")).toBe(storeText);
    expect(fs.readFileSync(alerts, "utf8")).toBe(alertsText);
    const aside = fs.readdirSync(path.join(home, "storage")).filter((f) => f.includes(".pre-restore-"));
    expect(aside).toHaveLength(1);
    expect(fs.readFileSync(path.join(home, "storage", aside[0]!), "utf8")).toContain('"changed":true');

    const list = await runCli("ams-backup", ["list", "--home", home]);
    expect(list.stdout).toContain(name);
  });

  test("a truncated snapshot is named by verify and refused by restore, which changes nothing", async () => {
    const home = tempHome();
    const { store } = seed(home);
    expect((await runCli("ams-backup", ["create", "--home", home])).exitCode).toBe(0);
    const [name] = fs.readdirSync(path.join(home, "backups"));
    const file = path.join(home, "backups", name!);
    // A second, good snapshot (another name) must still verify.
    fs.copyFileSync(file, path.join(home, "backups", "ams-20200101T000000Z.json.gz"));
    fs.truncateSync(file, Math.floor(fs.statSync(file).size / 2));

    const verify = await runCli("ams-backup", ["verify", "--home", home]);
    expect(verify.exitCode).toBe(1);
    expect(verify.stdout).toContain(`BAD  ${name}: cannot decompress`);
    expect(verify.stdout).toContain("ok   ams-20200101T000000Z.json.gz");
    expect(verify.stderr).toContain(`1 of 2 snapshot(s) failed verification: ${name}`);

    fs.writeFileSync(store, "[]\n");
    const restore = await runCli("ams-backup", ["restore", file, "--home", home]);
    expect(restore.exitCode).toBe(1);
    expect(restore.stderr).toMatch(/refusing to restore: cannot decompress .*nothing was changed/);
    expect(fs.readFileSync(store, "utf8")).toBe("[]\n");
    expect(fs.readdirSync(path.join(home, "storage")).filter((f) => f.includes(".pre-restore-"))).toEqual([]);
  });

  test("create applies the configured rotation", async () => {
    const home = tempHome();
    seed(home);
    writeConfig(home, { backups: { keep_hourly: 2, keep_daily: 1 } });
    const dir = path.join(home, "backups");
    fs.mkdirSync(dir);
    for (const stamp of ["20200101T000000Z", "20200101T010000Z", "20200102T000000Z"])
      fs.writeFileSync(path.join(dir, `ams-${stamp}.json.gz`), "old");
    fs.writeFileSync(path.join(dir, "notes.txt"), "not a snapshot");
    const created = await runCli("ams-backup", ["--home", home]);
    expect(created.exitCode).toBe(0);
    expect(created.stdout).toContain(
      "removed 2 old snapshot(s): ams-20200101T010000Z.json.gz, ams-20200101T000000Z.json.gz",
    );
    expect(fs.readdirSync(dir).sort()).toEqual(
      [expect.stringMatching(/^ams-20200102/), expect.stringMatching(/^ams-2026/), "notes.txt"].sort(),
    );
  });
});

describe("restore copies aside", () => {
  test("two restores in the same second keep both earlier versions: no copy is overwritten", async () => {
    const paths = amsPaths(tempHome());
    const options = { keep_hourly: 48, keep_daily: 14 };
    fs.mkdirSync(path.dirname(paths.store), { recursive: true });
    fs.writeFileSync(paths.store, formatJsonArray([{ v: "snapshot" }]));
    const { file } = await createBackup(paths, options, new Date("2026-11-25T10:00:00Z"));
    fs.writeFileSync(paths.store, formatJsonArray([{ v: "original" }]));
    const now = new Date("2026-11-25T12:00:00Z");
    const first = await restoreBackup(paths, file, now);
    const second = await restoreBackup(paths, file, now);
    const storeCopies = [...first.setAside, ...second.setAside].filter((f) => f.includes("system_logs.json"));
    expect(new Set(storeCopies).size).toBe(2);
    expect(storeCopies.map((f) => JSON.parse(fs.readFileSync(f, "utf8"))[0].v)).toEqual(["original", "snapshot"]);
  });
});
