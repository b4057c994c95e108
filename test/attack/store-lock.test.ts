// A lock taken from a live holder: 100 concurrent writers on a 100k-record store under CPU
// stress, and a holder stopped for 8 s. Every writer that exits 0 must have its record stored, and
// no writer may die with a raw stack trace. Figures in README, "What AMS guarantees".
import { spawnSync } from "node:child_process";
import { execa, type ResultPromise } from "execa";
import fs from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { amsPaths } from "../../lib/paths.js";
import { formatJsonArray } from "../../storage/locked-file.js";
import { appendSamples } from "../../storage/store.js";
import { runCli, tempHome, writeConfig } from "../helpers.js";

const WRITERS = 100;
const ROUNDS = Number(process.env.AMS_STORM_ROUNDS ?? 2);
const RECORDS = 100_000;

/**
 * A data home with a 100k-record store and one tiny plugin per writer: each writer runs a sensor
 * list of its own, so no run lock holds it back and every one of them contends for the store lock.
 */
function homeWithStore(): { home: string; store: string } {
  const home = tempHome();
  writeConfig(home, { server_id: "storm" });
  const plugins = path.join(home, "sensors.d");
  fs.mkdirSync(plugins, { mode: 0o755 });
  for (let i = 0; i < WRITERS; i++)
    fs.writeFileSync(path.join(plugins, pluginName(i)), `#!/bin/sh\necho writer ${i}\n`, { mode: 0o755 });
  const store = amsPaths(home).store;
  fs.mkdirSync(path.dirname(store), { recursive: true });
  const start = Date.parse("2026-11-01T00:00:00Z");
  const records = Array.from({ length: RECORDS }, (_, i) => ({
    server_id: "storm",
    metric_type: "CPU",
    timestamp: new Date(start + i * 10_000).toISOString(),
    value: i % 100,
    unit: "%",
  }));
  fs.writeFileSync(store, formatJsonArray(records));
  return { home, store };
}

type Run = Awaited<ReturnType<typeof runCli>>;

/** Every record printed by a run that exited 0 is in the store (as many times as printed). */
function lostRecords(store: string, runs: readonly Run[]): string[] {
  const stored = new Map<string, number>();
  for (const line of fs.readFileSync(store, "utf8").split("\n")) {
    const record = line.replace(/,$/, "");
    if (record.startsWith("{")) stored.set(record, (stored.get(record) ?? 0) + 1);
  }
  const lost: string[] = [];
  for (const run of runs.filter((r) => r.exitCode === 0)) {
    for (const sample of JSON.parse(run.stdout) as unknown[]) {
      const line = JSON.stringify(sample);
      const left = stored.get(line) ?? 0;
      if (left === 0) lost.push(line);
      else stored.set(line, left - 1);
    }
  }
  return lost;
}

/** Stack frames or a rethrown error: what an ordinary failure must never print. */
const RAW_TRACE = /^\s+at |throw err|ECOMPROMISED'|\{ code:/m;

function expectCleanFailures(runs: readonly Run[]): void {
  for (const run of runs) {
    expect([0, 1]).toContain(run.exitCode);
    expect(run.stderr).not.toMatch(RAW_TRACE);
    if (run.exitCode !== 0) expect(run.stderr).toMatch(/^ams-sensor: /m);
  }
}

const pluginName = (i: number) => `w${String(i).padStart(3, "0")}`;

/** Writer `i`: an ams-sensor run of plugin `i` alone, printing the samples it acknowledged. */
const writer = (home: string, i: number) =>
  runCli("ams-sensor", [pluginName(i), "--json", "--home", home], { timeout: 180_000 });

describe("store lock under attack", () => {
  let stress: ResultPromise | undefined;
  afterEach(() => {
    stress?.kill("SIGKILL");
    stress = undefined;
  });

  test(`${WRITERS} writers at once on a ${RECORDS}-record store under stress-ng --cpu 4, ${ROUNDS} rounds: no acknowledged record lost, no raw stack trace`, async () => {
    const { home, store } = homeWithStore();
    stress = execa("stress-ng", ["--cpu", "4", "--timeout", "600s", "--quiet"], { reject: false });
    const all: Run[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const runs = await Promise.all(Array.from({ length: WRITERS }, (_, i) => writer(home, i)));
      expectCleanFailures(runs);
      all.push(...runs);
      expect(lostRecords(store, all)).toEqual([]);
    }
    const ok = all.filter((r) => r.exitCode === 0).length;
    process.stdout.write(`lock storm: ${ok} of ${all.length} writers stored their record, none lost\n`);
    expect(ok).toBeGreaterThan(0);
    // No writer's temporary file is left behind.
    expect(fs.readdirSync(path.dirname(store)).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  }, 900_000);

  test("a holder stopped for 8 s half-way through its write keeps its lock (or fails cleanly); nobody's record is lost", async () => {
    for (let attempt = 0; attempt < 2; attempt++) {
      const { home, store } = homeWithStore();
      const dir = path.dirname(store);
      const holder = writer(home, 0);
      // Stopped while its temporary file is being written: after it read the store, before its rename.
      const deadline = Date.now() + 30_000;
      while (!fs.readdirSync(dir).some((f) => f.endsWith(".tmp"))) {
        if (Date.now() > deadline) throw new Error("the first writer never started its write");
      }
      process.kill(holder.pid!, "SIGSTOP");
      const others = Array.from({ length: 20 }, (_, i) => writer(home, i + 1));
      await sleep(8000);
      process.kill(holder.pid!, "SIGCONT");
      const runs = await Promise.all([holder, ...others]);
      expectCleanFailures(runs);
      expect(lostRecords(store, runs)).toEqual([]);
      expect(runs.filter((r) => r.exitCode === 0).length).toBeGreaterThan(0);
    }
  }, 180_000);

  test("temporary files of killed writers are removed by the next write; a live writer's is left alone", async () => {
    const { store } = homeWithStore();
    const dead = `${store}.${spawnSync("true").pid}-1.tmp`; // a writer that has exited
    const live = `${store}.${process.pid}-999.tmp`;
    const older = `${store}.tmp`; // the one name every writer shared before
    for (const file of [dead, live, older]) fs.writeFileSync(file, "half a store");
    await appendSamples(store, [
      { server_id: "storm", metric_type: "CPU", timestamp: new Date().toISOString(), value: 1, unit: "%" },
    ]);
    expect([dead, live, older].filter((f) => fs.existsSync(f))).toEqual([live]);
  });
});
