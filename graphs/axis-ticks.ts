/**
 * The y axis ticks of a chart from `floor` to at least `top`, at round values of the unit as people
 * read it: 0, 512 MiB, 1 GiB for bytes (binary steps), minutes or hours for durations, whole numbers
 * for counts. The last tick is the top of the axis.
 */
export function axisTicks(floor: number, top: number, unit: string, count = 4): number[] {
  const base = baseOf(unit, Math.max(Math.abs(floor), Math.abs(top)));
  let step = niceStep((top - floor) / base / count) * base;
  if ((unit === "count" || unit === "state") && step < 1) step = 1;
  const first = Math.floor(floor / step) * step;
  const ticks: number[] = [];
  for (let v = first; ticks.length === 0 || ticks.at(-1)! < top - step * 1e-9; v += step)
    ticks.push(Math.round(v / step) * step);
  return ticks.length > 1 ? ticks : [first, first + step];
}

/** The unit ticks step in: a power of 1024 for bytes, a minute, an hour or a day for durations. */
function baseOf(unit: string, magnitude: number): number {
  if (unit === "B" || unit === "B/s")
    return 1024 ** Math.max(0, Math.floor(Math.log(Math.max(1, magnitude)) / Math.log(1024)));
  if (unit === "s") return magnitude >= 2 * 86400 ? 86400 : magnitude >= 2 * 3600 ? 3600 : magnitude >= 120 ? 60 : 1;
  return 1;
}

/** 1, 2, 2.5 or 5 times a power of ten. */
function niceStep(raw: number): number {
  if (!(raw > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / power;
  return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 2.5 ? 2.5 : fraction <= 5 ? 5 : 10) * power;
}
