import { XMLParser, XMLValidator } from "fast-xml-parser";
import { loadChartRenderer, type ChartRenderer } from "../graphs/chart.js";
import { planCharts } from "../graphs/charts.js";
import { buildSeries } from "../graphs/series.js";
import { parseConfig } from "../config/ams-config.js";
import type { Sample } from "../storage/sample.js";

const NOW = Date.parse("2026-11-25T12:00:00Z");
const MIN = 60_000;
const config = parseConfig({ server_id: "web-1" }, "test");

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

describe("buildSeries and planCharts", () => {
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

  test("every series gets a chart per range, every metric a combined chart, custom metrics included", () => {
    const charts = planCharts(series, config, NOW);
    expect(charts).toHaveLength(5 * 3 + 4 * 3);
    const combined = charts.filter((c) => c.server === undefined);
    expect(combined.map((c) => c.file)).toContain("charts/fleet/queue_depth-24h.svg");
    expect(combined.find((c) => c.file === "charts/fleet/CPU-7d.svg")!.spec.lines.map((l) => l.name)).toEqual([
      "db-1",
      "web-1",
    ]);
    expect(charts.filter((c) => c.server === "db-1").map((c) => c.file)).toContain(
      "charts/servers/db-1/Disk.mount.~2Fvar-30d.svg",
    );
  });

  test("--server and --range filters", () => {
    const charts = planCharts(series, config, NOW, { server: "db-1", range: "24h" });
    expect(charts.map((c) => c.file).sort()).toEqual([
      "charts/servers/db-1/CPU-24h.svg",
      "charts/servers/db-1/Disk.mount.~2F-24h.svg",
      "charts/servers/db-1/Disk.mount.~2Fvar-24h.svg",
    ]);
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
    }).parse(svg);
  };

  test("a hostile server name is escaped text; a gap gives two paths; thresholds are dashed", () => {
    const hostile = `"><script>alert(1)</script>\u0001 & co`;
    const samples = [
      ...[0, 2, 4, 6, 8].map((m) => sample(hostile, "CPU", 600 - m, 50)),
      ...[0, 2, 4].map((m) => sample(hostile, "CPU", 60 - m, 99)),
    ];
    const [chart] = planCharts(buildSeries(samples), config, NOW, { range: "24h" });
    const svg = renderer.render({
      ...chart!.spec,
      thresholds: [{ value: 90, severity: "critical", label: "critical > 90 %" }],
    });
    const doc = parse(svg);
    expect(svg).not.toContain("<script");
    expect(svg).toContain("&lt;script&gt;");
    const root = doc.svg[0];
    expect(root["@_role"]).toBe("img");
    // Parsed back, the name is text of the title, not an element.
    expect(root.title[0]["#text"]).toContain('"><script>alert(1)</script> & co');
    expect(root.script).toBeUndefined();
    expect(root.path.filter((p: Record<string, string>) => p["@_class"] === "data-line")).toHaveLength(2);
    expect(root.line[0]["@_stroke-dasharray"]).toBe("6 4");
  });

  test("fifty servers over seven days stay under 150 KB", () => {
    const samples: Sample[] = [];
    for (let s = 0; s < 50; s++)
      for (let m = 0; m < 7 * 1440; m += 2) samples.push(sample(`server-${s}`, "CPU", m, (m * 7 + s) % 100));
    const charts = planCharts(buildSeries(samples), config, NOW, { range: "7d" });
    const combined = charts.find((c) => c.server === undefined)!;
    const svg = renderer.render(combined.spec);
    expect(Buffer.byteLength(svg)).toBeLessThan(150 * 1024);
    expect(svg.match(/class="data-line"/g)).toHaveLength(50);
  });

  test("a count axis has whole ticks only", () => {
    const point = (t: number, value: number) => ({ t, value, lo: value, hi: value, span: 0 });
    const spec = {
      title: "Users",
      from: 0,
      to: 2,
      tickFormat: "%H:%M",
      thresholds: [],
      lines: [{ name: "web-1", runs: [[point(0, 0), point(1, 2), point(2, 1)]] }],
    };
    const labels = (svg: string) =>
      [...svg.matchAll(/<text[^>]*text-anchor="end"[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    expect(labels(renderer.render({ ...spec, unit: "count" }))).toEqual(["0", "1", "2"]);
    expect(labels(renderer.render({ ...spec, unit: "load" }))).toContain("0.5");
  });

  test("no data in the range says so", () => {
    const svg = renderer.render({
      title: "CPU",
      unit: "%",
      from: 0,
      to: 1,
      tickFormat: "%H:%M",
      lines: [],
      thresholds: [],
    });
    parse(svg);
    expect(svg).toContain("no data in this range");
  });
});
