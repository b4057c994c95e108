/// <reference lib="dom" />
import type { Point } from "./series.js";
import type { Threshold } from "./thresholds.js";
import type { ScaleLinear, ScaleTime, Selection } from "d3";
import { xmlSafeText } from "../lib/escape-html.js";

/** One line of a chart: a server (or the only series), already split at gaps and downsampled. */
export interface ChartLine {
  name: string;
  runs: Point[][];
}

export interface ChartSpec {
  /** Read by screen readers and shown at the top. */
  title: string;
  unit: string;
  /** The y axis starts here (0 when not given) and, unless a value goes past it, ends at `ceiling`. */
  floor?: number;
  ceiling?: number;
  from: number;
  to: number;
  /** d3 time format of the time axis ticks, in this machine's local time. */
  tickFormat: string;
  lines: ChartLine[];
  thresholds: Threshold[];
}

export interface ChartRenderer {
  /** The chart as a standalone SVG document. */
  render(spec: ChartSpec): string;
}

const WIDTH = 720;
const PLOT_HEIGHT = 200;
const MARGIN = { top: 26, right: 14, bottom: 24, left: 52 };
const LEGEND_COLUMN = 178;
const LEGEND_ROW = 16;
const THRESHOLD_COLOURS = { warning: "#c77c02", critical: "#c0392b" };

/** The highest value drawn, so that thresholds and peaks stay inside the plot. */
function topOfScale(spec: ChartSpec): number {
  let top = 0;
  for (const line of spec.lines) for (const run of line.runs) for (const p of run) top = Math.max(top, p.hi);
  for (const t of spec.thresholds) top = Math.max(top, t.value);
  // A percentage's scale is 0-100 whatever a record claims; any other stays finite, with room for nice().
  if (spec.unit === "%") return 100;
  if (spec.ceiling !== undefined && top <= spec.ceiling) return spec.ceiling;
  return top > 0 ? Math.min(top * 1.05, 1e300) : 1;
}

type D3 = typeof import("d3");
type Svg = Selection<SVGSVGElement, unknown, null, undefined>;

/** Where everything goes in one chart: its size, its scales, the legend's grid and the lines' colours. */
interface Layout {
  height: number;
  legendColumns: number;
  x: ScaleTime<number, number>;
  y: ScaleLinear<number, number>;
  colour: (line: number) => string;
}

function layout(d3: D3, spec: ChartSpec): Layout {
  const legendColumns = Math.max(1, Math.floor((WIDTH - MARGIN.left) / LEGEND_COLUMN));
  const legendRows = Math.ceil(spec.lines.length / legendColumns);
  return {
    height: MARGIN.top + PLOT_HEIGHT + MARGIN.bottom + legendRows * LEGEND_ROW + 6,
    legendColumns,
    x: d3
      .scaleTime()
      .domain([spec.from, spec.to])
      .range([MARGIN.left, WIDTH - MARGIN.right]),
    y: d3
      .scaleLinear()
      .domain([spec.floor ?? 0, topOfScale(spec)])
      .nice()
      .range([MARGIN.top + PLOT_HEIGHT, MARGIN.top])
      .clamp(true), // a value off the scale is drawn at its edge, never at an infinite coordinate
    colour: (i) => d3.schemeTableau10[i % 10]!,
  };
}

/** The SVG element with its accessible title, white background and visible heading. */
function drawFrame(parent: Selection<HTMLElement, unknown, null, undefined>, spec: ChartSpec, { height }: Layout): Svg {
  const title = xmlSafeText(spec.title);
  const svg = parent
    .append("svg")
    .attr("xmlns", "http://www.w3.org/2000/svg")
    .attr("viewBox", `0 0 ${WIDTH} ${height}`)
    .attr("width", WIDTH)
    .attr("height", height)
    .attr("role", "img")
    .attr("aria-labelledby", "chart-title")
    .attr("font-family", "system-ui, sans-serif")
    .attr("font-size", 11);
  svg.append("title").attr("id", "chart-title").text(title);
  svg.append("rect").attr("width", WIDTH).attr("height", height).attr("fill", "#fff");
  svg.append("text").attr("x", MARGIN.left).attr("y", 16).attr("font-size", 13).attr("font-weight", "bold").text(title);
  return svg;
}

/**
 * Grid, axes, tick labels and the unit. Axes are drawn as one path each plus their labels:
 * d3.axis makes three elements per tick, and elements are what a chart costs to render.
 */
function drawAxes(svg: Svg, d3: D3, spec: ChartSpec, { x, y }: Layout): void {
  const left = MARGIN.left;
  const right = WIDTH - MARGIN.right;
  const bottom = MARGIN.top + PLOT_HEIGHT;
  const timeFormat = d3.timeFormat(spec.tickFormat);
  const xTicks = x.ticks(6);
  // A count has no halves: 0, 1, 2 users, not 0.5 or 1.5.
  const yTicks = y.ticks(5).filter((v) => spec.unit !== "count" || Number.isInteger(v));
  const yFormat = y.tickFormat(5, "~s");
  svg
    .append("path")
    .attr("class", "grid")
    .attr("d", yTicks.map((v) => `M${left},${y(v).toFixed(1)}H${right}`).join(""))
    .attr("stroke", "#e3e3e3");
  svg
    .append("path")
    .attr("class", "axis")
    .attr(
      "d",
      `M${left},${MARGIN.top}V${bottom}H${right}${xTicks.map((t) => `M${x(t).toFixed(1)},${bottom}v5`).join("")}`,
    )
    .attr("stroke", "#888")
    .attr("fill", "none");
  for (const t of xTicks)
    svg
      .append("text")
      .attr("x", x(t).toFixed(1))
      .attr("y", bottom + 16)
      .attr("text-anchor", "middle")
      .text(timeFormat(t));
  for (const v of yTicks)
    svg
      .append("text")
      .attr("x", left - 5)
      .attr("y", (y(v) + 4).toFixed(1))
      .attr("text-anchor", "end")
      .text(yFormat(v));
  svg
    .append("text")
    .attr("transform", `translate(12,${MARGIN.top + PLOT_HEIGHT / 2}) rotate(-90)`)
    .attr("text-anchor", "middle")
    .text(xmlSafeText(spec.unit));
}

/** Each alert threshold as a dashed line in its severity's colour, labelled at the right. */
function drawThresholds(svg: Svg, spec: ChartSpec, { y }: Layout): void {
  for (const t of spec.thresholds) {
    svg
      .append("line")
      .attr("class", `threshold ${t.severity}`)
      .attr("x1", MARGIN.left)
      .attr("x2", WIDTH - MARGIN.right)
      .attr("y1", y(t.value))
      .attr("y2", y(t.value))
      .attr("stroke", THRESHOLD_COLOURS[t.severity])
      .attr("stroke-dasharray", "6 4");
    svg
      .append("text")
      .attr("x", WIDTH - MARGIN.right - 2)
      .attr("y", y(t.value) - 3)
      .attr("text-anchor", "end")
      .attr("fill", THRESHOLD_COLOURS[t.severity])
      .text(xmlSafeText(t.label));
  }
}

/** Every run of every line (a lone point as a dot), or "no data in this range" when nothing is drawn. */
function drawLines(svg: Svg, d3: D3, spec: ChartSpec, { x, y, colour }: Layout): void {
  const line = d3
    .line<Point>()
    .x((p) => x(p.t))
    .y((p) => y(p.value))
    .digits(1);
  let drawn = 0;
  spec.lines.forEach((series, i) => {
    for (const run of series.runs) {
      drawn += run.length;
      if (run.length === 1) {
        svg
          .append("circle")
          .attr("class", "data-point")
          .attr("cx", x(run[0]!.t).toFixed(1))
          .attr("cy", y(run[0]!.value).toFixed(1))
          .attr("r", 2)
          .attr("fill", colour(i));
      } else {
        svg
          .append("path")
          .attr("class", "data-line")
          .attr("d", line(run))
          .attr("fill", "none")
          .attr("stroke", colour(i))
          .attr("stroke-width", 1.5);
      }
    }
  });
  if (drawn === 0) {
    svg
      .append("text")
      .attr("x", (MARGIN.left + WIDTH - MARGIN.right) / 2)
      .attr("y", MARGIN.top + PLOT_HEIGHT / 2)
      .attr("text-anchor", "middle")
      .attr("fill", "#777")
      .text("no data in this range");
  }
}

/** One swatch and name per line under the plot; a long name is cut, whole in its tooltip. */
function drawLegend(svg: Svg, spec: ChartSpec, { legendColumns, colour }: Layout): void {
  spec.lines.forEach((series, i) => {
    const lx = MARGIN.left + (i % legendColumns) * LEGEND_COLUMN;
    const ly = MARGIN.top + PLOT_HEIGHT + MARGIN.bottom + Math.floor(i / legendColumns) * LEGEND_ROW + 10;
    svg
      .append("rect")
      .attr("x", lx)
      .attr("y", ly - 8)
      .attr("width", 10)
      .attr("height", 10)
      .attr("fill", colour(i));
    const name = xmlSafeText(series.name);
    const label = svg
      .append("text")
      .attr("x", lx + 14)
      .attr("y", ly + 1)
      .text(name.length > 26 ? `${name.slice(0, 25)}…` : name);
    if (name.length > 26) label.append("title").text(name);
  });
}

/** The chart as an SVG document, taken out of the shared page. */
function serialise(svg: Svg): string {
  // HTML serialisation is several times faster than jsdom's XMLSerializer and is well-formed XML
  // here: no attribute holds text from data, and text escapes &, < and > (only &nbsp; is HTML-only).
  const text = svg.node()!.outerHTML.replaceAll("&nbsp;", "&#160;");
  svg.remove();
  return `<?xml version="1.0" encoding="UTF-8"?>\n${text}\n`;
}

/**
 * Loads d3-node (jsdom: most of a second) once for the whole run and renders every chart in the
 * same document, removing each SVG once serialised. Only the graphs job calls this.
 */
export async function loadChartRenderer(): Promise<ChartRenderer> {
  const { D3Node } = await import("d3-node");
  const d3n = new D3Node();
  const d3 = d3n.d3;
  const body = d3.select(d3n.document.body);

  function render(spec: ChartSpec): string {
    const at = layout(d3, spec);
    const svg = drawFrame(body, spec, at);
    drawAxes(svg, d3, spec, at);
    drawThresholds(svg, spec, at);
    drawLines(svg, d3, spec, at);
    drawLegend(svg, spec, at);
    return serialise(svg);
  }

  return { render };
}
