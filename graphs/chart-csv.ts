import type { ChartSpec } from "./chart.js";
import { isoLocalAt } from "./time-text.js";

/** A cell as CSV: quoted when it holds a comma, quote or line break; a leading = + - @ cannot start a spreadsheet formula. */
function cell(text: string): string {
  const safe = /^[=+\-@]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/**
 * The time buckets of a chart as CSV, one row per bucket and line: time (its newest sample, local
 * time with offset), value (the bucket's mean), min and max; a combined chart adds the server.
 */
export function chartCsv(spec: ChartSpec, combined: boolean): string {
  // Names ranked once by localeCompare (names it finds equal share a rank): the rows of a
  // combined chart are many times its lines, and localeCompare is slow.
  const names = [...new Set(spec.lines.map((line) => line.name))].sort((a, b) => a.localeCompare(b));
  const rank = new Map<string, number>();
  names.forEach((name, i) =>
    rank.set(name, i > 0 && names[i - 1]!.localeCompare(name) === 0 ? rank.get(names[i - 1]!)! : i),
  );
  const all = spec.lines.flatMap((line) => {
    // The server's cell, made once per line: a combined chart has a row per line and bucket.
    const lead = combined ? `,${cell(line.name)}` : "";
    return line.columns.map((c) => ({ lead, rank: rank.get(line.name)!, c }));
  });
  all.sort((a, b) => a.c.t - b.c.t || a.rank - b.rank);
  let text = combined ? "time,server,value,min,max\n" : "time,value,min,max\n";
  for (const { lead, c } of all)
    text += `${isoLocalAt(c.t)}${lead},${figure(c.value)},${figure(c.lo)},${figure(c.hi)}\n`;
  return text;
}

/** A value to the thousandth, as the CSV gives it. */
const figure = (v: number) => String(Math.round(v * 1000) / 1000);
