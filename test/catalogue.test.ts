// Every built-in metric, from its sensor's declaration to each place that shows or judges it: an
// entry left out, or a place that forgets to read the catalogue, fails here.
import { execa } from "execa";
import { DEFAULT_RULES } from "../alerts/config.js";
import { knownMetrics } from "../alerts/metrics.js";
import { compareSeries, metricTitle, planServerCharts } from "../graphs/charts.js";
import { findRange } from "../graphs/ranges.js";
import { EVENT_METRICS } from "../graphs/dashboard.js";
import { buildSeries } from "../graphs/series.js";
import { parseConfig } from "../config/ams-config.js";
import { BUILTIN_CATALOGUE, catalogueEntry } from "../sensors/catalogue.js";
import { builtinSensors } from "../sensors/registry.js";
import { formatValue } from "../storage/format-value.js";
import { KIND_UNITS, pluginEntry, type MetricEntry } from "../storage/metric-catalogue.js";
import type { Sample } from "../storage/sample.js";
import { seriesKey } from "../storage/series-key.js";
import { renderMetrics } from "../web/metrics.js";

const NOW = new Date("2026-11-25T13:10:00.000Z");
const measured = BUILTIN_CATALOGUE.filter((e) => e.kind !== "event");

function sampleOf(entry: MetricEntry, value = 12.5, server = "web-1"): Sample {
  return {
    server_id: server,
    metric_type: entry.metric_type,
    timestamp: new Date(NOW.getTime() - 60_000).toISOString(),
    value,
    unit: entry.unit,
    ...(entry.labels.length > 0 ? { labels: Object.fromEntries(entry.labels.map((l) => [l, `${l}-a`])) } : {}),
  };
}

test("the catalogue is every built-in sensor's declared metrics, each metric type once", () => {
  const types = BUILTIN_CATALOGUE.map((e) => e.metric_type);
  expect(types).toEqual(builtinSensors.flatMap((s) => s.metrics.map((m) => m.metric_type)));
  expect(new Set(types).size).toBe(types.length);
  expect(types).toEqual(
    expect.arrayContaining(["CPU", "RAM", "Swap", "Disk", "Inodes", "Load1", "LoadPerCPU", "NetRx", "DiskBusy"]),
  );
  expect(types).toEqual(expect.arrayContaining(["Temperature", "Uptime", "Reboot", "Processes", "Users", "CERT"]));
});

describe.each(BUILTIN_CATALOGUE.map((e) => [e.metric_type, e] as const))("%s", (_type, entry) => {
  test("rules may name it; a percentage refuses a threshold over 100", () => {
    expect(knownMetrics([])).toContain(entry.metric_type);
    const rule = (threshold: number) => ({ alerts: { rules: { r: { metric: entry.metric_type, threshold } } } });
    expect(() => parseConfig(rule(100), "c.json")).not.toThrow();
    if (entry.kind === "percent")
      expect(() => parseConfig(rule(101), "c.json")).toThrow(`${entry.metric_type} is a percentage: at most 100`);
    else expect(() => parseConfig(rule(101), "c.json")).not.toThrow();
  });

  test("its unit is its kind's, and values read with it", () => {
    if (entry.metric_type !== "CERT") expect(entry.unit).toBe(KIND_UNITS[entry.kind]);
    const expected: Record<string, RegExp> = {
      percent: /^12\.5 %$/,
      ratio: /^12\.5$/,
      count: /^12\.5$/,
      bytes_per_second: /^1\.5 MiB\/s$/,
      per_second: /^12\.5 \/s$/,
      seconds: /^1 h 1 min$/,
      celsius: /^12\.5 °C$/,
      state: /^12\.5$/,
      event: /^(|12\.5 advisory)$/,
    };
    const value = { bytes_per_second: 1.5 * 1024 * 1024, seconds: 3690 }[entry.kind as string] ?? 12.5;
    expect(formatValue(value, entry.unit)).toMatch(expected[entry.kind]!);
  });

  test("/metrics names it from the catalogue, with its help and base unit", () => {
    const text = renderMetrics({ samples: [sampleOf(entry)], remotes: [], pulls: {}, alerts: [], now: NOW });
    if (!entry.prometheus) {
      expect(text).not.toContain(entry.metric_type);
      return;
    }
    const { name, type } = entry.prometheus;
    expect(name).toMatch(/^ams_[a-z0-9_]+$/);
    const suffix = {
      percent: "_percent",
      bytes_per_second: "_bytes_per_second",
      seconds: "_seconds",
      celsius: "_celsius",
    };
    if (entry.kind in suffix) expect(name.endsWith(suffix[entry.kind as keyof typeof suffix])).toBe(true);
    expect(text).toContain(`# HELP ${name} ${entry.help}\n# TYPE ${name} ${type}\n`);
    const labels = [...entry.labels.map((l) => `${l}="${l}-a"`), `server="web-1"`].sort().join(",");
    expect(text).toContain(`${name}{${labels}} 12.5\n`);
  });

  test("charts place it by its catalogue order and title, or leave an event out", () => {
    const series = buildSeries([sampleOf(entry)], EVENT_METRICS);
    if (!entry.chart) {
      expect(series).toEqual([]);
      return;
    }
    const charts = planServerCharts(series, findRange("24h")!, parseConfig({}, "c.json"), NOW.getTime(), {
      periods: [],
      reboots: new Map(),
    });
    expect(charts.map((c) => c.spec.title)).toContain(`${metricTitle(series[0]!)} on web-1, last 24 hours`);
    expect(metricTitle(series[0]!).startsWith(entry.title)).toBe(true);
    expect(charts[0]!.spec.ceiling).toBe(entry.chart.ceiling);
  });
});

test("charts and pages list the built-in metrics in catalogue order, custom sensors after", () => {
  const chartable = measured.filter((e) => e.chart);
  const byOrder = [...chartable].sort((a, b) => a.chart!.order - b.chart!.order).map((e) => e.metric_type);
  const series = [
    { metric: "aaa_plugin", labels: {} },
    ...chartable.map((e) => ({ metric: e.metric_type, labels: {} })),
  ];
  expect(series.sort(compareSeries).map((s) => s.metric)).toEqual([...byOrder, "aaa_plugin"]);
  expect(new Set(chartable.map((e) => e.chart!.order)).size).toBe(chartable.length);
});

test("the default rules are the entries' rules, and name catalogue metrics", () => {
  const declared = BUILTIN_CATALOGUE.flatMap((e) => Object.keys(e.rules ?? {}));
  expect(Object.keys(DEFAULT_RULES).sort()).toEqual(declared.sort());
  expect(declared).toEqual(
    expect.arrayContaining([
      "cpu_high",
      "load_high",
      "swap_high",
      "inodes_warning",
      "temperature_high",
      "disk_critical",
    ]),
  );
  expect(DEFAULT_RULES.load_high).toMatchObject({
    metric: "LoadPerCPU",
    op: ">",
    threshold: 2,
    clear: 1.5,
    for: "15m",
  });
  const parsed = parseConfig({}, "c.json").alerts.rules;
  expect(parsed.temperature_high).toMatchObject({ metric: "Temperature", threshold: 85, for: 300 });
  expect(parsed.inodes_warning).toMatchObject({ metric: "Inodes", op: ">=", threshold: 90 });
});

test("a config that replaces alerts.rules keeps only its own rules", () => {
  const rules = parseConfig({ alerts: { rules: { mine: { metric: "CPU", threshold: 50 } } } }, "c.json").alerts.rules;
  expect(Object.keys(rules)).toEqual(["mine"]);
});

describe("plugin metrics get an entry from their perfdata unit", () => {
  test.each([
    ["ms", "ams_custom_check_ping_seconds", "gauge", 0.001],
    ["MB", "ams_custom_check_ping_bytes", "gauge", 1024 * 1024],
    ["%", "ams_custom_check_ping_percent", "gauge", undefined],
    ["c", "ams_custom_check_ping_total", "counter", undefined],
    ["", "ams_custom_check_ping", "gauge", undefined],
    ["jobs", "ams_custom_check_ping", "gauge", undefined],
  ])("%s", (unit, name, type, scale) => {
    expect(pluginEntry("check-ping", unit).prometheus).toEqual({ name, type, ...(scale ? { scale } : {}) });
    expect(catalogueEntry("check-ping", unit)).toEqual(pluginEntry("check-ping", unit));
  });

  test("/metrics exposes them in base units; promtool accepts the whole exposition without remarks", async () => {
    const plugin = (unit: string, value: number): Sample => ({
      server_id: "web-1",
      metric_type: "check-ping",
      timestamp: NOW.toISOString(),
      value,
      unit,
      labels: { label: `rta-${unit}` },
    });
    const samples = [
      ...BUILTIN_CATALOGUE.map((e) => sampleOf(e)),
      plugin("ms", 12),
      plugin("MB", 2),
      plugin("c", 7),
      plugin("", 3),
    ];
    const text = renderMetrics({ samples, remotes: [], pulls: {}, alerts: [], now: NOW });
    expect(text).toContain('ams_custom_check_ping_seconds{label="rta-ms",metric="check-ping",server="web-1"} 0.012\n');
    expect(text).toContain('ams_custom_check_ping_bytes{label="rta-MB",metric="check-ping",server="web-1"} 2097152\n');
    expect(text).toContain("# TYPE ams_custom_check_ping_total counter\n");
    const promtool = await execa("promtool", ["check", "metrics"], { input: text, reject: false });
    expect(`${promtool.stdout}${promtool.stderr}`).toBe("");
    expect(promtool.exitCode).toBe(0);
  });
});

test("one series identity: label order does not make another series", () => {
  const a = { server_id: "s", metric_type: "Disk", labels: { mount: "/", device: "vda" } };
  const b = { server_id: "s", metric_type: "Disk", labels: { device: "vda", mount: "/" } };
  expect(seriesKey(a)).toBe(seriesKey(b));
  expect(seriesKey(a)).not.toBe(seriesKey({ ...a, server_id: "t" }));
  expect(seriesKey({ server_id: "s", metric_type: "CPU" })).toBe(
    seriesKey({ server_id: "s", metric_type: "CPU", labels: {} }),
  );
});
