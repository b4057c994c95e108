import fs from "node:fs";
import path from "node:path";
import { parseConfig } from "../config/ams-config.js";
import { loadChartRenderer } from "../graphs/chart.js";
import { chartCsv } from "../graphs/chart-csv.js";
import { planFleetCharts, planServerCharts, type ChartContext } from "../graphs/charts.js";
import { buildDashboard, EVENT_METRICS, rebootsByServer } from "../graphs/dashboard.js";
import { expand, FleetDigest } from "../graphs/fleet-digest.js";
import { rangesFor } from "../graphs/ranges.js";
import { buildSeries } from "../graphs/series.js";
import { amsPaths } from "../lib/paths.js";
import { forEachFleetSource, readFleet } from "../storage/fleet.js";
import { runCli, tempHome } from "./helpers.js";
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
