import { XMLParser, XMLValidator } from "fast-xml-parser";
import { firingPeriods } from "../graphs/alert-periods.js";
import { axisTicks } from "../graphs/axis-ticks.js";
import { loadChartRenderer, type ChartRenderer, type ChartSpec } from "../graphs/chart.js";
import { chartCsv } from "../graphs/chart-csv.js";
import { planFleetCharts, planServerCharts, type ChartContext } from "../graphs/charts.js";
import { columns } from "../graphs/columns.js";
import { findRange, lastStepEnd, stepPhase } from "../graphs/ranges.js";
import { isoLocal } from "../lib/time.js";
import { buildSeries, pointColumns } from "../graphs/series.js";
import { parseConfig } from "../config/ams-config.js";
import type { AlertEvent } from "../storage/alert-history.js";
import { formatValue } from "../storage/format-value.js";
import type { Sample } from "../storage/sample.js";

const NOW = Date.parse("2026-11-25T12:00:00Z");
const MIN = 60_000;
const config = parseConfig({ server_id: "web-1" }, "test");
const NO_CONTEXT: ChartContext = { periods: [], reboots: new Map() };
const DAY = findRange("24h")!;
const WEEK = findRange("7d")!;

function sample(
  server: string,
  metric: string,
  minutesAgo: number,
  value: number,
  extra: Partial<Sample> = {},
): Sample {
  return {
    server_id: server,
    metric_type: metric,
    timestamp: new Date(NOW - minutesAgo * MIN).toISOString(),
    value,
    unit: "%",
    ...extra,
  };
}

const point = (t: number, value: number) => ({ t, value, lo: value, hi: value, span: 0 });

describe("buildSeries and the chart plans", () => {
  const samples: Sample[] = [
    ...[10, 8, 6, 4, 2].map((m) => sample("web-1", "CPU", m, 10 + m)),
    sample("web-1", "CPU", 2, 55), // same timestamp again: the later record wins
    ...[10, 5].map((m) => sample("db-1", "CPU", m, 30)),
    sample("db-1", "Disk", 5, 40, { labels: { mount: "/" } }),
    sample("db-1", "Disk", 5, 70, { labels: { mount: "/var" } }),
    sample("web-1", "queue_depth", 3, 12, { unit: "jobs" }),
    sample("web-1", "CERT", 3, 1, { unit: "advisory" }),
  ];
  const series = buildSeries(samples, new Set(["CERT"]));

  test("a series is server + metric + labels, sorted by time, a repeated timestamp once", () => {
    expect(series.map((s) => `${s.server} ${s.metric} ${s.labels.mount ?? ""}`).sort()).toEqual([
      "db-1 CPU ",
      "db-1 Disk /",
      "db-1 Disk /var",
      "web-1 CPU ",
      "web-1 queue_depth ",
    ]);
    const cpu = series.find((s) => s.server === "web-1" && s.metric === "CPU")!;
    expect(cpu.points.map((p) => p.value)).toEqual([20, 18, 16, 14, 55]);
  });

  test("a server gets a chart per series, the fleet one per metric with a line per server, each with its CSV", () => {
    const db = planServerCharts(
      series.filter((s) => s.server === "db-1"),
      DAY,
      config,
      NOW,
      NO_CONTEXT,
    );
    expect(db.map((c) => c.csv)).toEqual([
      "data/db-1/CPU-24h.csv",
      "data/db-1/Disk.mount.~2F-24h.csv",
      "data/db-1/Disk.mount.~2Fvar-24h.csv",
    ]);
    expect(db[1]!.spec.title).toBe("Disk / on db-1, last 24 hours");
    const fleet = planFleetCharts(series, WEEK, config, NOW, NO_CONTEXT);
    expect(fleet.map((c) => c.id)).toEqual(["CPU", "Disk.mount.~2F", "Disk.mount.~2Fvar", "queue_depth"]);
    expect(fleet[0]!.spec.lines.map((l) => l.name)).toEqual(["db-1", "web-1"]);
    expect(fleet[0]!.csv).toBe("data/fleet/CPU-7d.csv");
  });

  test("a chart of data younger than its range starts where the data starts and says since when", () => {
    const [cpu] = planServerCharts(
      series.filter((s) => s.server === "web-1" && s.metric === "CPU"),
      WEEK,
      config,
      NOW,
      NO_CONTEXT,
    );
    expect(cpu!.collectingSince).toBe(NOW - 10 * MIN);
    // Just before the first sample, not a week before.
    expect(cpu!.spec.from).toBeLessThan(NOW - 10 * MIN);
    expect(cpu!.spec.from).toBeGreaterThan(NOW - 11 * MIN);
    const old = buildSeries([sample("a", "CPU", 8 * 1440, 1), sample("a", "CPU", 1, 2)]);
    const [week] = planServerCharts(old, WEEK, config, NOW, NO_CONTEXT);
    expect(week!.collectingSince).toBeUndefined();
    expect(week!.spec.from).toBe(week!.spec.to - WEEK.ms);
  });
});

describe("long ranges end at their last whole step", () => {
  // Every 10 minutes up to NOW (12:00 UTC), for 8 days or 2; 7-day steps are 42 minutes: 11:24 is the last whole one.
  const STEP_END = NOW - 36 * MIN;
  const every10 = (server: string, days: number) =>
    Array.from({ length: (days * 1440) / 10 + 1 }, (_, i) => sample(server, "CPU", days * 1440 - i * 10, 20 + (i % 7)));
  const firing: ChartContext = {
    periods: [{ rule: "cpu_high", server: "old", metric: "CPU", labels: {}, from: NOW - 3 * 60 * MIN, to: NOW }],
    reboots: new Map(),
  };

  test("a week chart of data that fills the week and its points, buckets, shades and CSV stop at the step", () => {
    const [week] = planServerCharts(buildSeries(every10("old", 8)), WEEK, config, NOW, firing);
    const { spec } = week!;
    expect(week!.collectingSince).toBeUndefined();
    expect(spec.to).toBe(STEP_END);
    expect(spec.from).toBe(STEP_END - 7 * 1440 * MIN);
    const [line] = spec.lines;
    expect(line!.runs.flat().at(-1)!.t).toBe(NOW - 40 * MIN);
    expect(line!.columns.at(-1)!.t).toBe(NOW - 40 * MIN);
    expect(spec.shades).toEqual([{ from: NOW - 180 * MIN, to: STEP_END, label: "cpu_high" }]);
    const lastRow = chartCsv(spec, false).trimEnd().split("\n").at(-1)!;
    expect(lastRow.split(",")[0]).toBe(isoLocal(new Date(NOW - 40 * MIN)));
    // The day chart ends now, with the newest sample.
    const [day] = planServerCharts(buildSeries(every10("old", 8)), DAY, config, NOW, firing);
    expect(day!.spec.to).toBe(NOW);
    expect(day!.spec.lines[0]!.columns.at(-1)!.t).toBe(NOW);
  });

  test("within a step, newer samples leave a week chart and a fleet week chart as they were", () => {
    const later = NOW + 5 * MIN; // the next step starts at 12:06
    const before = buildSeries([...every10("old", 8), ...every10("young", 2)]);
    const newer = (server: string) => [1, 3, 5].map((m) => sample(server, "CPU", -m, 99));
    const after = buildSeries([...every10("old", 8), ...newer("old"), ...every10("young", 2), ...newer("young")]);
    expect(after.find((s) => s.server === "old")!.points.at(-1)!.t).toBe(later);
    const own = (all: typeof before) => all.filter((s) => s.server === "old");
    expect(planServerCharts(own(after), WEEK, config, later, NO_CONTEXT)).toEqual(
      planServerCharts(own(before), WEEK, config, NOW, NO_CONTEXT),
    );
    const [fleet] = planFleetCharts(after, WEEK, config, later, NO_CONTEXT);
    expect(fleet!.spec.to).toBe(STEP_END);
    expect(fleet!.spec.lines.map((l) => l.name)).toEqual(["old", "young"]);
    expect([fleet]).toEqual(planFleetCharts(before, WEEK, config, NOW, NO_CONTEXT));
    // In the next step, the chart moves on by one step.
    const [next] = planServerCharts(own(after), WEEK, config, NOW + 6 * MIN, NO_CONTEXT);
    expect(next!.spec.to).toBe(NOW + 6 * MIN);
    expect(next!.spec.lines[0]!.columns.at(-1)!.t).toBe(NOW + 5 * MIN);
  });

  test("each server's week steps are shifted by its own share of a step: a run redraws a share of the week charts, not all of them", () => {
    const step = WEEK.step!;
    const names = Array.from({ length: 100 }, (_, i) => `srv-${i}`);
    const phases = names.map((name) => stepPhase(name, step));
    expect(phases.every((p) => Number.isInteger(p) && p >= 0 && p < step)).toBe(true);
    expect(new Set(phases).size).toBeGreaterThan(90);
    expect(stepPhase("srv-1", step)).toBe(phases[1]);
    // Every 5 minutes over a day, the servers whose last whole step moved on: about 5/42 of them each time.
    for (let at = NOW; at < NOW + 1440 * MIN; at += 5 * MIN) {
      const moved = phases.filter((p) => lastStepEnd(step, at + 5 * MIN, p) !== lastStepEnd(step, at, p)).length;
      expect(moved).toBeLessThan(35);
    }
    // A server's week chart ends at its own last step, within one step before now.
    const shifted = { ...NO_CONTEXT, stepPhase };
    const [week] = planServerCharts(buildSeries(every10("old", 8)), WEEK, config, NOW, shifted);
    const end = lastStepEnd(step, NOW, stepPhase("old", step));
    expect(week!.spec.to).toBe(end);
    expect(end).toBeLessThanOrEqual(NOW);
    expect(end).toBeGreaterThan(NOW - step);
    expect(week!.spec.from).toBe(end - WEEK.ms);
    expect(week!.spec.lines[0]!.columns.at(-1)!.t).toBeLessThanOrEqual(end);
    // The fleet's week chart is not shifted.
    const [fleet] = planFleetCharts(buildSeries(every10("old", 8)), WEEK, config, NOW, shifted);
    expect(fleet!.spec.to).toBe(STEP_END);
  });

  test("a young server's week chart ends now, with its newest sample, until its data reaches back a tenth of the week", () => {
    const [week] = planServerCharts(buildSeries(every10("young", 0.5)), WEEK, config, NOW, NO_CONTEXT);
    expect(week!.collectingSince).toBe(NOW - 720 * MIN);
    expect(week!.spec.to).toBe(NOW);
    expect(week!.spec.lines[0]!.columns.at(-1)!.t).toBe(NOW);
    // Two days of data: shown from where they start, up to the step, as a week of data is.
    const [older] = planServerCharts(buildSeries(every10("young", 2)), WEEK, config, NOW, NO_CONTEXT);
    expect(older!.collectingSince).toBe(NOW - 2 * 1440 * MIN);
    expect(older!.spec.to).toBe(STEP_END);
    expect(older!.spec.from).toBeLessThan(NOW - 2 * 1440 * MIN);
    expect(older!.spec.lines[0]!.columns.at(-1)!.t).toBeLessThanOrEqual(STEP_END);
  });
});

describe("time buckets, firing periods, axis ticks, CSV", () => {
  test("columns: mean, min and max of each non-empty bucket; a rollup brings its own min and max", () => {
    const points = [point(0, 10), point(1, 20), { t: 25, value: 5, lo: 1, hi: 9, span: 10 }];
    expect(columns(pointColumns(points), 0, 100, 4)).toEqual([
      { index: 0, t: 1, value: 15, lo: 10, hi: 20 },
      { index: 1, t: 25, value: 5, lo: 1, hi: 9 },
    ]);
  });

  test("firing periods: fired to resolved; still firing to now; dropped from the state at its last event", () => {
    const event = (key: string, kind: AlertEvent["event"], at: number): AlertEvent => ({
      key,
      rule: "cpu_high",
      server_id: "web-1",
      metric_type: "CPU",
      severity: "warning",
      event: kind,
      at: new Date(at).toISOString(),
      since: new Date(at - 600_000).toISOString(),
      message: "",
    });
    const history = [event("a", "fired", 1e6), event("a", "resolved", 2e6), event("b", "fired", 3e6)];
    expect(firingPeriods(history, new Set(["b"]), 9e6).map((p) => [p.from, p.to])).toEqual([
      [1e6 - 600_000, 2e6],
      [3e6 - 600_000, 9e6],
    ]);
    expect(firingPeriods(history, new Set(), 9e6).map((p) => p.to)).toEqual([2e6, 3e6]);
  });

  test("axis ticks are round in the unit people read: binary for bytes, whole for counts", () => {
    const gib = 1024 ** 3;
    const bytes = axisTicks(0, 7.3 * gib, "B");
    expect(bytes.map((v) => formatValue(v, "B"))).toEqual(["0 B", "2 GiB", "4 GiB", "6 GiB", "8 GiB"]);
    expect(axisTicks(0, 2, "count")).toEqual([0, 1, 2]);
    expect(axisTicks(0, 100, "%")).toEqual([0, 25, 50, 75, 100]);
    expect(axisTicks(0, 5 * 3600, "s").map((v) => formatValue(v, "s"))).toContain("2 h");
  });

  test("a chart's CSV: time, value, min, max per bucket; a combined one names the server, quoted", () => {
    const spec = {
      lines: [{ name: "a,b", runs: [], columns: [{ index: 0, t: NOW, value: 1.5, lo: 1, hi: 2 }] }],
    } as unknown as ChartSpec;
    const [head, row] = chartCsv(spec, true).trim().split("\n");
    expect(head).toBe("time,server,value,min,max");
    expect(row).toMatch(/^2026-11-25T\d\d:00:00\.000[+-]\d\d:\d\d,"a,b",1\.5,1,2$/);
    expect(chartCsv(spec, false).split("\n")[0]).toBe("time,value,min,max");
  });
});

describe("chart rendering", () => {
  let renderer: ChartRenderer;
  beforeAll(async () => {
    renderer = await loadChartRenderer();
  });

  const parse = (svg: string) => {
    expect(XMLValidator.validate(svg)).toBe(true);
    return new XMLParser({
      ignoreAttributes: false,
      isArray: (_name, _path, _leaf, isAttribute) => !isAttribute,
    }).parse(svg).svg[0];
  };
  const base: ChartSpec = {
    title: "CPU",
    unit: "%",
    floor: 0,
    ceiling: 100,
    from: 0,
    to: 3600_000,
    buckets: 96,
    tickFormat: "%H:%M",
    lines: [],
    thresholds: [],
    shades: [],
    reboots: [],
  };

  test("a hostile server name is escaped text in the hover titles; a gap gives two paths; thresholds are dashed lines", () => {
    const hostile = `"><script>alert(1)</script>\u0001 & co`;
    const samples = [
      ...[0, 2, 4, 6, 8].map((m) => sample(hostile, "CPU", 600 - m, 50)),
      ...[0, 2, 4].map((m) => sample(hostile, "CPU", 60 - m, 99)),
    ];
    const [chart] = planServerCharts(buildSeries(samples), DAY, config, NOW, NO_CONTEXT);
    const svg = renderer.render(chart!.spec);
    expect(svg).not.toContain("<script");
    const root = parse(svg);
    expect(root["@_role"]).toBe("img");
    expect(root["@_aria-label"]).toContain('"><script>alert(1)</script> & co');
    const plot = root.svg.find((s: Record<string, string>) => s["@_class"] === "plot");
    expect(plot.path.filter((p: Record<string, string>) => (p["@_class"] ?? "").startsWith("data-line "))).toHaveLength(
      2,
    );
    expect(root.line.find((l: Record<string, string>) => l["@_class"] === "threshold")["@_y1"]).toBeDefined();
    const titles = (svg: string): string[] =>
      parse(svg)
        .svg.find((s: Record<string, string>) => s["@_class"] === "hover")
        .rect.map((r: { title: string[] }) => r.title[0]);
    // A server's own chart does not repeat its name; a combined chart names each line.
    expect(titles(svg).length).toBeGreaterThan(1);
    expect(titles(svg).at(-1)).toMatch(/\n99 %$/);
    const combined = { ...chart!.spec, lines: [chart!.spec.lines[0]!, { ...chart!.spec.lines[0]!, name: "web-2" }] };
    expect(titles(renderer.render(combined)).at(-1)).toContain(`${hostile.replace("\u0001", "")}: 99 %`);
  });

  test("a bucket's title says its time and its mean with min–max", () => {
    const line = {
      name: "web-1",
      runs: [[point(0, 10), point(1000, 30)]],
      columns: columns(pointColumns([point(0, 10), point(1000, 30)]), 0, 3600_000, 96),
    };
    const svg = renderer.render({ ...base, lines: [line] });
    expect(svg).toMatch(/<title>\d{4}-\d\d-\d\d \d\d:\d\d\n20 % \(10 % – 30 %\)<\/title>/);
    // A plugin's own unit is data too: escaped in every title.
    const hostileUnit = renderer.render({ ...base, unit: "<u>&", lines: [line] });
    expect(hostileUnit).not.toContain("<u>");
    expect(hostileUnit).toMatch(/<title>[^<]*\n20 &lt;u&gt;&amp; \(10 &lt;u&gt;&amp; – 30 &lt;u&gt;&amp;\)<\/title>/);
    const two = renderer.render({ ...base, lines: [line, { ...line, name: "web-2", columns: [line.columns[0]!] }] });
    expect(two).toMatch(
      /<title>\d{4}-\d\d-\d\d \d\d:\d\d\nweb-1: 20 % \(10 % – 30 %\)\nweb-2: 20 % \(10 % – 30 %\)<\/title>/,
    );
  });

  test("one or two samples are markers with their values; the newest point always has a marker", () => {
    const one = { name: "web-1", runs: [[point(3600_000, 42.25)]], columns: [] };
    const svg = renderer.render({ ...base, lines: [one] });
    const root = parse(svg);
    expect(root.circle).toHaveLength(1);
    expect(root.circle[0]["@_r"]).toBe("4");
    expect(root.text.find((t: Record<string, string>) => t["@_class"] === "point-value")["#text"]).toBe("42.3 %");
    const many = { name: "web-1", runs: [[0, 1, 2, 3].map((i) => point(i * 600_000, i))], columns: [] };
    expect(parse(renderer.render({ ...base, lines: [many] })).circle).toHaveLength(1);
  });

  test("firing periods are shaded and reboots marked inside the chart's time", () => {
    const svg = renderer.render({
      ...base,
      shades: [{ from: 600_000, to: 1200_000, label: "cpu_high" }],
      reboots: [1800_000, 7200_000],
    });
    const plot = parse(svg).svg.find((s: Record<string, string>) => s["@_class"] === "plot");
    expect(plot.rect.filter((r: Record<string, string>) => r["@_class"] === "firing")).toHaveLength(1);
    expect(plot.line.filter((l: Record<string, string>) => l["@_class"] === "reboot")).toHaveLength(1);
  });

  test("fifty servers over seven days stay under 150 KB", () => {
    const samples: Sample[] = [];
    for (let s = 0; s < 50; s++)
      for (let m = 0; m < 7 * 1440; m += 2) samples.push(sample(`server-${s}`, "CPU", m, (m * 7 + s) % 100));
    const [combined] = planFleetCharts(buildSeries(samples), WEEK, config, NOW, NO_CONTEXT);
    const svg = renderer.render(combined!.spec);
    expect(Buffer.byteLength(svg)).toBeLessThan(150 * 1024);
    expect(svg.match(/class="data-line c\d"/g)).toHaveLength(50);
  });

  test("a count axis has whole ticks only, formatted by unit", () => {
    const line = { name: "web-1", runs: [[point(0, 0), point(1, 2), point(2, 1)]], columns: [] };
    const labels = (svg: string) => [...svg.matchAll(/<text x="2" [^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    expect(labels(renderer.render({ ...base, floor: 0, ceiling: undefined, unit: "count", lines: [line] }))).toEqual([
      "1",
      "2",
      "3",
    ]);
    const gib = { name: "web-1", runs: [[point(0, 0), point(1, 3 * 1024 ** 3)]], columns: [] };
    const byteLabels = labels(renderer.render({ ...base, ceiling: undefined, unit: "B", lines: [gib] }));
    expect(byteLabels.every((l) => /^\d+(\.\d)? GiB$/.test(l!))).toBe(true);
  });

  test("no data in the range says so", () => {
    const svg = renderer.render(base);
    parse(svg);
    expect(svg).toContain("no data in this range");
  });
});
