import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { parseConfig } from "../config/ams-config.js";
import { loadChartRenderer } from "../graphs/chart.js";
import { chartCsv } from "../graphs/chart-csv.js";
import { chartKey } from "../graphs/chart-cache.js";
import {
  chartLine,
  lineSource,
  draftServerCharts,
  planFleetCharts,
  planServerCharts,
  type ChartContext,
} from "../graphs/charts.js";
import { buildDashboard, EVENT_METRICS, rebootsByServer } from "../graphs/dashboard.js";
import { expand, FleetDigest, lineFrom, windowBytes, type CompactSeries } from "../graphs/fleet-digest.js";
import { lastStepEnd, RANGES, rangesFor, stepPhase, type Range } from "../graphs/ranges.js";
import { buildSeries } from "../graphs/series.js";
import { amsPaths } from "../lib/paths.js";
import { forEachFleetSource, readFleet } from "../storage/fleet.js";
import { formatJsonArray } from "../storage/locked-file.js";
import type { Sample } from "../storage/sample.js";
import { runCli, tempHome, writeConfig } from "./helpers.js";
import { fleetSamples } from "./support/dashboard-fixture.js";
import { HOUR, NOW, writeMultiSourceHome } from "./support/multi-source-home.js";

describe("rendering the fleet source by source", () => {
  test("the digest of the sources equals the series and dashboard of all samples at once", async () => {
    const home = tempHome();
    writeMultiSourceHome(home);
    const paths = amsPaths(home);
    const config = parseConfig(JSON.parse(fs.readFileSync(paths.config, "utf8")), paths.config);
    const all = await readFleet(paths, config);
    const digest = new FleetDigest();
    const sources = await forEachFleetSource(paths, config, () => digest.source());
    expect(sources).toEqual(all.sources);
    expect(sources.map((s) => [s.name, s.skipped, s.foreign ?? 0])).toEqual([
      ["local", 1, 0],
      ["r1", 0, 3],
      ["r2", 0, 0],
    ]);

    const whole = buildSeries(all.samples, EVENT_METRICS);
    expect(digest.series().map(expand)).toEqual(whole);
    // web-2 comes from two sources: one series, the later source's values at the shared times.
    const web2 = whole.filter((s) => s.server === "web-2" && s.metric === "Users");
    expect(web2).toHaveLength(1);
    const r1Users = fleetSamples("web-2", NOW - HOUR).filter((s) => s.metric_type === "Users");
    expect(web2[0]!.points.map((p) => p.value)).toEqual(r1Users.map((s) => s.value + 1));
    expect(whole.find((s) => s.metric === "entropy")!.points.map((p) => p.value)).toEqual([3, 2, 1].map((i) => i / 3));
    // The original AMS's records are this server's, and the rollups keep their bounds.
    const hubCpu = whole.find((s) => s.server === "hub" && s.metric === "CPU")!;
    expect(hubCpu.points.filter((p) => p.span === 0 && p.value >= 10 && p.value <= 21).length).toBeGreaterThan(0);
    expect(hubCpu.points.find((p) => p.span > 0)).toMatchObject({ lo: 5, span: HOUR });

    const input = {
      history: [],
      active: [],
      sources: [],
      now: new Date(NOW),
      refreshSeconds: 300,
      silentAfterSeconds: 1800,
    };
    expect(buildDashboard({ ...input, samples: digest.dashboardSamples() })).toEqual(
      buildDashboard({ ...input, samples: all.samples }),
    );
  });

  test("an error of the reader of a source fails the caller, and is not taken for an unreadable source", async () => {
    const home = tempHome();
    writeMultiSourceHome(home);
    const paths = amsPaths(home);
    const config = parseConfig(JSON.parse(fs.readFileSync(paths.config, "utf8")), paths.config);
    const failing = () => ({
      add: () => {
        throw new Error("digest broken");
      },
      finish: () => undefined,
    });
    await expect(forEachFleetSource(paths, config, failing)).rejects.toThrow("digest broken");
  });

  test("ams-graphs writes the charts and pages the whole-fleet plans give", async () => {
    const home = tempHome();
    writeMultiSourceHome(home);
    const run = await runCli("ams-graphs", ["--home", home], { env: { AMS_NOW: new Date(NOW).toISOString() } });
    expect(run.stderr).toContain("1 records skipped");
    expect(run.exitCode).toBe(0);
    // 6 ranges (rollups 40 days old) × (4 servers + the fleet page) + the index.
    expect(run.stdout).toMatch(/^ams-graphs: 31 pages, /);

    const paths = amsPaths(home);
    const config = parseConfig(JSON.parse(fs.readFileSync(paths.config, "utf8")), paths.config);
    const { samples } = await readFleet(paths, config);
    const series = buildSeries(samples, EVENT_METRICS);
    const ranges = rangesFor(Math.min(...series.map((s) => s.points[0]!.t)), NOW);
    expect(ranges.map((r) => r.name)).toContain("90d");
    const context: ChartContext = {
      periods: [],
      reboots: new Map([...rebootsByServer(samples, Infinity)].map(([s, boots]) => [s, boots.map(Date.parse)])),
      stepPhase,
    };
    const renderer = await loadChartRenderer();
    const read = (rel: string) => fs.readFileSync(path.join(paths.publicDir, rel), "utf8");
    let compared = 0;
    for (const range of ranges) {
      const fleetPage = read(`charts/${range.name}.html`);
      for (const chart of planFleetCharts(series, range, config, NOW, context)) {
        expect(chart.spec.lines.map((l) => l.name)).toEqual(
          ["hub", "r1", "r2", "web-2"].filter((s) => chart.spec.lines.some((l) => l.name === s)),
        );
        expect(read(chart.csv)).toBe(chartCsv(chart.spec, true));
        expect(fleetPage).toContain(renderer.render(chart.spec));
        compared++;
      }
      for (const server of ["hub", "r1", "r2", "web-2"]) {
        const own = series.filter((s) => s.server === server);
        const page = read(`servers/${server}${range.name === "24h" ? "" : `.${range.name}`}.html`);
        for (const chart of planServerCharts(own, range, config, NOW, context)) {
          expect(read(chart.csv)).toBe(chartCsv(chart.spec, false));
          expect(page).toContain(renderer.render(chart.spec));
          compared++;
        }
      }
    }
    expect(compared).toBeGreaterThan(100);
    const index = read("index.html");
    expect(index).toContain("Faille ancienne");
    expect(index).not.toContain("intruder");
    expect(read("servers/web-2.html")).toContain("Rebooted at");
  });
});

describe("charts kept from run to run", () => {
  const MIN = 60_000;
  /** In one step of old-1's week, month and 90-day charts (shifted by its stepPhase), and of the fleet's. */
  const FIRST_RUN = NOW + MIN;
  const SECOND_RUN = NOW + 5 * MIN;
  test("the two runs fall in one step of each long range, for old-1 and for the fleet", () => {
    for (const { step } of RANGES as readonly Range[])
      if (step !== undefined)
        for (const phase of [0, stepPhase("old-1", step)])
          expect(lastStepEnd(step, SECOND_RUN, phase)).toBe(lastStepEnd(step, FIRST_RUN, phase));
  });

  /**
   * "old-1" (this server): CPU and disk every 15 minutes for 31 days up to NOW, so its week and
   * month charts fill their range; remote "young": one day of CPU, so its long charts end now.
   */
  function writeSteadyHome(home: string): void {
    writeConfig(home, { server_id: "old-1", remotes: [{ name: "young", host: "young.example.org", user: "ams" }] });
    fs.mkdirSync(path.join(home, "storage", "remote"), { recursive: true });
    const every15 = (days: number) => Array.from({ length: days * 96 + 1 }, (_, i) => NOW - (days * 96 - i) * 15 * MIN);
    const old = every15(31).flatMap((t, i): Sample[] => [
      { server_id: "old-1", metric_type: "CPU", timestamp: new Date(t).toISOString(), value: 20 + (i % 9), unit: "%" },
      {
        server_id: "old-1",
        metric_type: "Disk",
        timestamp: new Date(t).toISOString(),
        value: 40 + (i % 4),
        unit: "%",
        labels: { mount: "/" },
      },
    ]);
    // Younger than a tenth of a week: its week and month charts end now.
    const young = every15(0.5).map((t, i): Sample => ({
      server_id: "young",
      metric_type: "CPU",
      timestamp: new Date(t).toISOString(),
      value: 50 + (i % 5),
      unit: "%",
    }));
    fs.writeFileSync(path.join(home, "storage", "system_logs.json"), formatJsonArray(old));
    fs.writeFileSync(path.join(home, "storage", "remote", "young_logs.json"), formatJsonArray(young));
  }

  /**
   * Samples newer than the steps' ends (every chart gets them), and a disk sample inside the week
   * given again with another value (the last one read counts): the same times, one value changed.
   */
  function appendSamples(home: string): void {
    const store = path.join(home, "storage", "system_logs.json");
    const samples = JSON.parse(fs.readFileSync(store, "utf8")) as Sample[];
    for (const m of [2, 4]) {
      const timestamp = new Date(NOW + m * MIN).toISOString();
      samples.push({ server_id: "old-1", metric_type: "CPU", timestamp, value: 90, unit: "%" });
      samples.push({
        server_id: "old-1",
        metric_type: "Disk",
        timestamp,
        value: 95,
        unit: "%",
        labels: { mount: "/" },
      });
    }
    // Older than a step of every long range, so inside each of their charts whatever old-1's step shift.
    const again = new Date(NOW - 720 * MIN).toISOString();
    samples.push({
      server_id: "old-1",
      metric_type: "Disk",
      timestamp: again,
      value: 99,
      unit: "%",
      labels: { mount: "/" },
    });
    fs.writeFileSync(store, formatJsonArray(samples));
  }

  const graphs = (home: string, at: number, ...args: string[]) =>
    runCli("ams-graphs", ["--home", home, ...args], { env: { AMS_NOW: new Date(at).toISOString() } });
  const reusedOf = (stdout: string) => Number(/ charts \((\d+) reused\)/.exec(stdout)?.[1]);

  /** Every file of a folder with a hash of its bytes. */
  function tree(dir: string): Record<string, string> {
    const files: Record<string, string> = {};
    for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true }))
      if (entry.isFile()) {
        const file = path.join(entry.parentPath, entry.name);
        files[path.relative(dir, file)] = createHash("sha1").update(fs.readFileSync(file)).digest("hex");
      }
    return files;
  }
  const cacheFiles = (home: string) => Object.keys(tree(path.join(amsPaths(home).stateDir, "chart-cache"))).sort();

  test("a chart's key changes with the chart as named, its frame, every byte its lines are drawn from and its build", () => {
    const config = parseConfig({}, "c.json");
    const series = buildSeries(fleetSamples("web-1", NOW));
    const { chart, frame } = draftServerCharts(series, (s) => s.points[0]!.t, rangesFor(NOW, NOW)[3]!, config, NOW, {
      periods: [],
      reboots: new Map(),
    })[0]!;
    const inputs = () => [[Uint8Array.of(1, 2, 3), Uint8Array.of(4, 5)]];
    const key = chartKey(chart, frame, inputs(), "b1");
    expect(chartKey(structuredClone(chart), { ...frame }, inputs(), "b1")).toBe(key);
    expect(chartKey(chart, frame, inputs(), "b2")).not.toBe(key);
    expect(chartKey({ ...chart, server: undefined }, frame, inputs(), "b1")).not.toBe(key);
    expect(chartKey({ ...chart, spec: { ...chart.spec, title: "x" } }, frame, inputs(), "b1")).not.toBe(key);
    expect(chartKey(chart, { ...frame, buckets: frame.buckets + 1 }, inputs(), "b1")).not.toBe(key);
    for (let line = 0; line < 2; line++)
      for (let i = 0; i < inputs()[0]![line]!.length; i++) {
        const changed = inputs();
        changed[0]![line]![i]! += 1;
        expect(chartKey(chart, frame, changed, "b1")).not.toBe(key);
      }
    // The same bytes cut otherwise, or split into two lines, are other inputs.
    expect(chartKey(chart, frame, [[Uint8Array.of(1, 2), Uint8Array.of(3, 4, 5)]], "b1")).not.toBe(key);
    expect(chartKey(chart, frame, [[Uint8Array.of(1, 2, 3)], [Uint8Array.of(4, 5)]], "b1")).not.toBe(key);
  });

  test("the bytes of a window of a series change exactly when the line drawn over it may", async () => {
    const digest = new FleetDigest();
    const fold = digest.source();
    const samples = fleetSamples("web-1", NOW).filter((s) => s.metric_type === "CPU");
    for (const sample of samples) fold.add(sample, () => sample);
    await fold.finish({ from: "whole", counts: { samples: samples.length, skipped: 0, foreign: 0 } });
    const [cpu] = digest.series();
    const from = (cpu!.t[0]! + NOW) / 2;
    const bytes = (s: CompactSeries) => Buffer.concat(windowBytes(s, from, NOW)).toString("hex");
    const edited = (at: number, value: number) => {
      const copy = { ...cpu!, value: Float64Array.from(cpu!.value, (v) => v / cpu!.scale), scale: 1 };
      copy.value[at] = value;
      return copy;
    };
    const inside = cpu!.t.findIndex((t) => t >= from);
    expect(inside).toBeGreaterThan(0);
    expect(bytes(edited(inside - 1, -1))).toBe(bytes(edited(inside - 1, -2)));
    expect(bytes(edited(inside, -1))).not.toBe(bytes(edited(inside, -2)));
    // The line drawn from the window's points: the same as from the whole series.
    const frame = { from, to: NOW, buckets: 240 };
    expect(chartLine(lineFrom(cpu!, from), frame)).toEqual(chartLine(lineSource(expand(cpu!)), frame));
    expect(lineFrom(cpu!, from).points.t[0]).toBe(cpu!.t[inside]);
  });

  test("a run with the charts of a run earlier in the step writes what drawing every chart writes", async () => {
    const warm = tempHome();
    writeSteadyHome(warm);
    const first = await graphs(warm, FIRST_RUN);
    expect(first.exitCode).toBe(0);
    expect(reusedOf(first.stdout)).toBe(0);
    // The pages whose charts end before now: the long ranges of old-1 and of the fleet (young's end now).
    expect(cacheFiles(warm)).toEqual([
      "charts/30d.json",
      "charts/7d.json",
      "charts/90d.json",
      "servers/old-1.30d.json",
      "servers/old-1.7d.json",
      "servers/old-1.90d.json",
    ]);
    appendSamples(warm);
    const second = await graphs(warm, SECOND_RUN);
    expect(second.stderr).toBe("");
    expect(second.exitCode).toBe(0);

    const cold = tempHome();
    writeSteadyHome(cold);
    appendSamples(cold);
    const whole = await graphs(cold, SECOND_RUN);
    expect(whole.exitCode).toBe(0);
    expect(reusedOf(whole.stdout)).toBe(0);
    expect(tree(amsPaths(warm).publicDir)).toEqual(tree(amsPaths(cold).publicDir));
    // Of the 12 charts that end at a step (CPU and disk, week, month and 90 days, of old-1 and of
    // the fleet), the 6 CPU charts are the same; the disk sample given again changed the 6 disk charts.
    expect(reusedOf(second.stdout)).toBe(6);
    expect(second.stdout).toMatch(/ \d+ charts \(6 reused\) in /);
  });

  test("an unusable cache file, a missing or altered CSV, a page no longer drawn: charts drawn again, the run goes on", async () => {
    const home = tempHome();
    writeSteadyHome(home);
    expect((await graphs(home, FIRST_RUN)).exitCode).toBe(0);
    const { publicDir, stateDir } = amsPaths(home);
    const drawn = tree(publicDir);
    const cache = path.join(stateDir, "chart-cache");
    fs.writeFileSync(path.join(cache, "servers", "old-1.30d.json"), "{not json");
    fs.writeFileSync(path.join(cache, "servers", "gone.7d.json"), JSON.stringify({ charts: {} }));
    fs.rmSync(path.join(publicDir, "data", "old-1", "CPU-7d.csv"));
    fs.appendFileSync(path.join(publicDir, "data", "fleet", "CPU-30d.csv"), "altered\n");

    const again = await graphs(home, FIRST_RUN, "--force");
    expect(again.exitCode).toBe(0);
    expect(again.stderr).toContain(`${path.join(cache, "servers", "old-1.30d.json")}: not valid JSON`);
    // The two charts of the unusable file are drawn; the 10 others are reused, their CSVs written again where needed.
    expect(reusedOf(again.stdout)).toBe(10);
    expect(tree(publicDir)).toEqual(drawn);
    // The unusable file is set aside (and kept), the page no longer drawn forgotten.
    expect(cacheFiles(home)).toEqual([
      "charts/30d.json",
      "charts/7d.json",
      "charts/90d.json",
      "servers/old-1.30d.json",
      expect.stringMatching(/^servers\/old-1\.30d\.json\.corrupt-/),
      "servers/old-1.7d.json",
      "servers/old-1.90d.json",
    ]);
  });
});
