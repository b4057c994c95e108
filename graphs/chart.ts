import type { Column } from "./columns.js";
import type { Point } from "./series.js";
import type { Threshold } from "./thresholds.js";
import { escapeHtml } from "../lib/escape-html.js";
import { formatValue } from "../storage/format-value.js";
import { axisTicks } from "./axis-ticks.js";
import { localTime } from "./time-text.js";

/** One line of a chart: a server (or the only series), split at gaps and downsampled, with its time buckets. */
export interface ChartLine {
  name: string;
  runs: Point[][];
  /** What hovering each time bucket says, and the CSV rows. */
  columns: Column[];
}

/** A period shaded on a chart: an alert firing. */
export interface Shade {
  from: number;
  to: number;
  label: string;
}

/** Everything one chart draws: explicit, so that a chart can be rendered again alone. */
export interface ChartSpec {
  /** Read by screen readers; the page shows it as the figure's caption. */
  title: string;
  unit: string;
  /** The y axis starts here (0 when not given) and, unless a value goes past it, ends at `ceiling`. */
  floor?: number;
  ceiling?: number;
  /** The time axis: from the range's start, or later when the data starts later. */
  from: number;
  to: number;
  /** The number of time buckets the columns were cut into on [from, to]. */
  buckets: number;
  /** d3 time format of the time axis ticks, in this machine's local time. */
  tickFormat: string;
  lines: ChartLine[];
  thresholds: Threshold[];
  shades: Shade[];
  /** Reboot times. */
  reboots: number[];
}

export interface ChartRenderer {
  /** The chart as an SVG element to inline in a page. */
  render(spec: ChartSpec): string;
}

/**
 * The SVG has no viewBox: its user unit is the CSS pixel, so text is 11 px on a phone and on a
 * desktop alike. Horizontal positions are percentages of its width; the lines are drawn in a
 * nested SVG stretched to that width (PLOT_UNITS wide) with strokes that do not stretch.
 */
const PLOT_UNITS = 1000;
/** Room at the right for the newest point's marker. */
const RIGHT_PAD = 14;
const TOP = 6;
const PLOT_HEIGHT = 150;
const HEIGHT = TOP + PLOT_HEIGHT + 20;
/** Where threshold labels start, past the y tick labels, so they stay away from the newest point (at the right). */
const THRESHOLD_LABEL_X = 62;
/** Hover titles of a combined chart name this many lines, the highest values. */
const TITLE_LINES = 6;
const THRESHOLD_COLOURS = { warning: "#b26a00", critical: "#c0392b" };
/** The colour class of the i-th line (c0 … c9, in the stylesheet), shared by its path, markers and legend entry. */
const LINE_COLOURS = 10;
export const lineColour = (i: number) => `c${i % LINE_COLOURS}`;

type D3 = typeof import("d3");

/** The highest value drawn, so that thresholds and peaks stay inside the plot. */
function topOfScale(spec: ChartSpec): number {
  let top = spec.floor ?? 0;
  for (const line of spec.lines) for (const run of line.runs) for (const p of run) top = Math.max(top, p.hi);
  for (const t of spec.thresholds) top = Math.max(top, t.value);
  // A percentage's scale is 0-100 whatever a record claims; any other stays finite, with room for the labels.
  if (spec.unit === "%") return 100;
  if (spec.ceiling !== undefined && top <= spec.ceiling) return spec.ceiling;
  return top > 0 ? Math.min(top * 1.08, 1e300) : 1;
}

const fixed = (n: number) => n.toFixed(1);

export function renderChart(d3: D3, spec: ChartSpec): string {
  const span = Math.max(1, spec.to - spec.from);
  const xUnits = (t: number) => ((t - spec.from) / span) * (PLOT_UNITS - RIGHT_PAD);
  const pct = (t: number) => `${fixed(xUnits(t) / 10)}%`;
  const ticks = axisTicks(spec.floor ?? 0, topOfScale(spec), spec.unit);
  const yTop = ticks.at(-1)!;
  const yBottom = ticks[0]!;
  // A value off the scale is drawn at its edge, never at an infinite coordinate.
  const y = (v: number) =>
    TOP +
    PLOT_HEIGHT -
    ((Math.min(yTop, Math.max(yBottom, v)) - yBottom) / Math.max(1e-9, yTop - yBottom)) * PLOT_HEIGHT;
  const out: string[] = [];
  out.push(
    `<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="100%" height="${HEIGHT}" role="img" aria-label="${escapeHtml(spec.title)}" font-size="11" fill="#444">`,
  );
  // Grid and y ticks, the labels inside the plot at the left, on a white halo.
  out.push(
    `<g class="grid" stroke="#e3e3e3">${ticks.map((v) => `<line x2="100%" y1="${fixed(y(v))}" y2="${fixed(y(v))}"/>`).join("")}</g>`,
  );
  out.push(
    `<g class="ticks y">${ticks
      .slice(1)
      .map((v) => `<text x="2" y="${fixed(y(v) + 12)}">${escapeHtml(formatValue(v, spec.unit))}</text>`)
      .join("")}</g>`,
  );
  const xTicks = d3.scaleTime().domain([spec.from, spec.to]).ticks(5);
  const timeFormat = d3.timeFormat(spec.tickFormat);
  out.push(
    `<g class="ticks x">${xTicks
      .map((t) => {
        const at = xUnits(t.getTime()) / PLOT_UNITS;
        const anchor = at < 0.06 ? "start" : at > 0.94 ? "end" : "middle";
        return `<text x="${pct(t.getTime())}" y="${HEIGHT - 4}" text-anchor="${anchor}">${timeFormat(t)}</text>`;
      })
      .join("")}</g>`,
  );

  // The plot: shaded firing periods, reboots and the lines, stretched to the width.
  const plot: string[] = [];
  for (const s of spec.shades) {
    const x0 = Math.max(0, xUnits(s.from));
    const x1 = Math.min(PLOT_UNITS, xUnits(s.to));
    if (x1 > x0)
      plot.push(
        `<rect class="firing" x="${fixed(x0)}" width="${fixed(Math.max(2, x1 - x0))}" height="${PLOT_HEIGHT}"/>`,
      );
  }
  for (const r of spec.reboots)
    if (r >= spec.from && r <= spec.to)
      plot.push(`<line class="reboot" x1="${fixed(xUnits(r))}" x2="${fixed(xUnits(r))}" y2="${PLOT_HEIGHT}"/>`);
  // What d3.line().digits(1) writes for a run of points (straight segments), without its
  // per-point accessor calls: thousands of points per page.
  const line = (run: readonly Point[]) => {
    let d = "";
    for (let i = 0; i < run.length; i++) {
      const p = run[i]!;
      d += `${i === 0 ? "M" : "L"}${Math.round(xUnits(p.t) * 10) / 10},${Math.round((y(p.value) - TOP) * 10) / 10}`;
    }
    return d;
  };
  spec.lines.forEach((series, i) => {
    for (const run of series.runs)
      if (run.length > 1) plot.push(`<path class="data-line ${lineColour(i)}" d="${line(run)}"/>`);
  });
  out.push(
    `<svg class="plot" y="${TOP}" width="100%" height="${PLOT_HEIGHT}" viewBox="0 0 ${PLOT_UNITS} ${PLOT_HEIGHT}" preserveAspectRatio="none">${plot.join("")}</svg>`,
  );
  for (const r of spec.reboots)
    if (r >= spec.from && r <= spec.to)
      out.push(`<text class="reboot-label" x="${pct(r)}" dx="3" y="${TOP + 11}">reboot</text>`);

  // Markers: the newest point of each line; every point, with its value, when a line has one or two.
  let drawn = 0;
  spec.lines.forEach((series, i) => {
    const count = series.runs.reduce((n, run) => n + run.length, 0);
    drawn += count;
    const few = count <= 2;
    // The runs' points flattened only when they are few: the newest is the last of the last run that has any.
    const shown = few ? series.runs.flat() : series.runs.findLast((run) => run.length > 0)!.slice(-1);
    for (const p of shown) {
      out.push(
        `<circle class="data-point ${lineColour(i)}" cx="${pct(p.t)}" cy="${fixed(y(p.value))}" r="${few ? 4 : 3}"/>`,
      );
      // Left of a point in the right half, right of one in the left half: never cut at the edge.
      const right = xUnits(p.t) < PLOT_UNITS / 2;
      if (few)
        out.push(
          `<text class="point-value" x="${pct(p.t)}" dx="${right ? 7 : -7}" y="${fixed(y(p.value) - 7)}" text-anchor="${right ? "start" : "end"}">${escapeHtml(formatValue(p.value, spec.unit))}</text>`,
        );
    }
  });
  if (drawn === 0)
    out.push(
      `<text class="empty" x="50%" y="${TOP + PLOT_HEIGHT / 2}" text-anchor="middle">no data in this range</text>`,
    );
  // Labels above their line, or below it when the line is near the top or the label above is too close.
  let previousLabel = -Infinity;
  for (const t of [...spec.thresholds].sort((a, b) => b.value - a.value)) {
    const lineY = y(t.value);
    const labelY = lineY - 3 < TOP + 11 || lineY - 3 - previousLabel < 12 ? lineY + 12 : lineY - 3;
    previousLabel = labelY;
    out.push(
      `<line class="threshold" x2="100%" y1="${fixed(lineY)}" y2="${fixed(lineY)}" stroke="${THRESHOLD_COLOURS[t.severity]}"/>`,
      `<text class="threshold-label" x="${THRESHOLD_LABEL_X}" y="${fixed(labelY)}" fill="${THRESHOLD_COLOURS[t.severity]}">${escapeHtml(t.label)}</text>`,
    );
  }
  out.push(hoverLayer(spec));
  out.push("</svg>");
  return out.join("");
}

/**
 * One invisible column per time bucket, on top of everything, whose title the browser shows on
 * hover: the time, then each line's value (the bucket's mean, with its min–max), named when the
 * chart has more than one line. The layer's unit is one bucket (its viewBox is the plot's width in
 * buckets), so a column is mostly `x="12" width="1"`: a page holds thousands of them.
 */
function hoverLayer(spec: ChartSpec): string {
  const across = (spec.buckets * PLOT_UNITS) / (PLOT_UNITS - RIGHT_PAD);
  // Formatted values hold nothing to escape unless the unit (a plugin's own) does.
  const safeValue = escapeHtml(spec.unit) === spec.unit ? (text: string) => text : escapeHtml;
  const valueText = (c: Column) =>
    safeValue(
      c.lo === c.hi
        ? formatValue(c.value, spec.unit)
        : `${formatValue(c.value, spec.unit)} (${formatValue(c.lo, spec.unit)} – ${formatValue(c.hi, spec.unit)})`,
    );
  const columns: { index: number; t: number; text: string }[] = [];
  if (spec.lines.length === 1) {
    for (const c of spec.lines[0]!.columns) columns.push({ index: c.index, t: c.t, text: valueText(c) });
  } else {
    const byIndex = new Map<number, { t: number; rows: { name: string; c: Column }[] }>();
    for (const line of spec.lines) {
      const name = escapeHtml(line.name);
      for (const c of line.columns) {
        const entry = byIndex.get(c.index) ?? byIndex.set(c.index, { t: c.t, rows: [] }).get(c.index)!;
        entry.t = Math.max(entry.t, c.t);
        entry.rows.push({ name, c });
      }
    }
    for (const index of [...byIndex.keys()].sort((a, b) => a - b)) {
      const { t, rows } = byIndex.get(index)!;
      rows.sort((a, b) => b.c.value - a.c.value);
      const shown = rows.slice(0, TITLE_LINES).map(({ name, c }) => `${name}: ${valueText(c)}`);
      if (rows.length > TITLE_LINES) shown.push(`… ${rows.length - TITLE_LINES} more`);
      columns.push({ index, t, text: shown.join("\n") });
    }
  }
  // Each column reaches halfway to its neighbours' centres, the last one to the plot's right edge.
  const rects = columns.map(({ index, t, text }, k) => {
    const left = k === 0 ? 0 : (columns[k - 1]!.index + index + 1) / 2;
    const right = k === columns.length - 1 ? across : (index + columns[k + 1]!.index + 1) / 2;
    return `<rect x="${left}" width="${Math.round((right - left) * 1000) / 1000}" height="1"><title>${localTime(t)}\n${text}</title></rect>`;
  });
  return `<svg class="hover" y="${TOP}" width="100%" height="${PLOT_HEIGHT}" viewBox="0 0 ${Math.round(across * 1000) / 1000} 1" preserveAspectRatio="none" fill="none" pointer-events="all">${rects.join("")}</svg>`;
}

/**
 * Loads d3 once for the whole run, for its time scale, ticks and time format. The SVG itself is
 * written as text, so no DOM is needed: d3-node's jsdom took most of a second to load. Only the
 * graphs job calls this.
 */
export async function loadChartRenderer(): Promise<ChartRenderer> {
  const d3 = await import("d3");
  return { render: (spec) => renderChart(d3, spec) };
}
