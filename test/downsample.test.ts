import { downsample } from "../graphs/downsample.js";
import { nthSmallest, splitAtGaps, typicalInterval } from "../graphs/gaps.js";
import { pointColumns, type Point } from "../graphs/series.js";

const raw = (t: number, value: number): Point => ({ t, value, lo: value, hi: value, span: 0 });
const MIN = 60_000;

describe("downsample", () => {
  const points = Array.from({ length: 5040 }, (_, i) => raw(i * 2 * MIN, 20 + (i % 7)));
  points[1234] = raw(1234 * 2 * MIN, 99.5);
  points[4000] = raw(4000 * 2 * MIN, 0.5);
  const to = 5040 * 2 * MIN;

  test("keeps the single-sample peak and trough, in at most two points per bucket", () => {
    const out = downsample(pointColumns(points), 0, to, 100);
    expect(out.length).toBeLessThanOrEqual(200);
    expect(Math.max(...out.map((p) => p.value))).toBe(99.5);
    expect(Math.min(...out.map((p) => p.value))).toBe(0.5);
    expect(out.find((p) => p.value === 99.5)!.t).toBe(1234 * 2 * MIN);
    const times = out.map((p) => p.t);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  test("a rollup point brings its own min and max, not its mean", () => {
    const rollups = Array.from({ length: 400 }, (_, i): Point => ({
      t: i * 3600_000,
      value: 30,
      lo: 10,
      hi: i === 200 ? 97 : 50,
      span: 3600_000,
    }));
    const out = downsample(pointColumns(rollups), 0, 400 * 3600_000, 50);
    expect(Math.max(...out.map((p) => p.value))).toBe(97);
    expect(Math.min(...out.map((p) => p.value))).toBe(10);
  });

  test("few raw points are kept as they are", () => {
    const few = [raw(0, 1), raw(MIN, 2), raw(2 * MIN, 3)];
    expect(downsample(pointColumns(few), 0, 3 * MIN, 100)).toEqual(few);
  });
});

describe("gaps", () => {
  test("a hole longer than three intervals splits the line; a late sample does not", () => {
    const times = [0, 2, 4, 6, 9, 11, 13, 60, 62, 64].map((m) => m * MIN);
    const points = times.map((t) => raw(t, 1));
    expect(typicalInterval(pointColumns(points))).toBe(2 * MIN);
    const runs = splitAtGaps(pointColumns(points));
    expect(runs.map((r) => r.t.length)).toEqual([7, 3]);
  });

  test("hourly rollups among two-minute samples are not gaps", () => {
    const rollups = [0, 60, 120].map((m): Point => ({ t: m * MIN, value: 5, lo: 1, hi: 9, span: 3600_000 }));
    const recent = Array.from({ length: 30 }, (_, i) => raw((180 + i * 2) * MIN, 5));
    expect(splitAtGaps(pointColumns([...rollups, ...recent]))).toHaveLength(1);
  });

  test("the raw samples' schedule sets the gap, however many hourly rollups come before them", () => {
    // 30 days of hourly rollups, then a day of samples every 15 minutes with a two-hour hole.
    const rollups = Array.from({ length: 30 * 24 }, (_, i): Point => ({
      t: i * 3600_000,
      value: 5,
      lo: 1,
      hi: 9,
      span: 3600_000,
    }));
    const start = 30 * 24 * 3600_000;
    const recent = Array.from({ length: 96 }, (_, i) => raw(start + i * 15 * MIN, 5)).filter(
      (_, i) => i < 40 || i >= 48,
    );
    const points = [...rollups, ...recent];
    expect(typicalInterval(pointColumns(points))).toBe(15 * MIN);
    expect(splitAtGaps(pointColumns(points)).map((r) => r.t.length)).toEqual([rollups.length + 40, 48]);
  });

  test("a lone point is a run of its own", () => {
    const points = [raw(0, 1), raw(2 * MIN, 1), raw(4 * MIN, 1), raw(100 * MIN, 1)];
    expect(splitAtGaps(pointColumns(points)).map((r) => r.t.length)).toEqual([3, 1]);
    expect(splitAtGaps(pointColumns([]))).toEqual([]);
  });

  test("nthSmallest finds what sorting would put at each index, runs of equal values included", () => {
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const shapes: [length: number, distinct: number][] = [
      [1, 1],
      [2, 2],
      [9, 3],
      [200, 5],
      [1001, 1000],
      [500, 1],
    ];
    for (const [length, distinct] of shapes) {
      const values = Float64Array.from(
        { length },
        () => Math.floor(next() * distinct) * 60_000 + (distinct > 100 ? next() : 0),
      );
      const sorted = Float64Array.from(values).sort();
      for (const k of new Set([0, Math.floor(length / 2), length - 1, Math.floor(next() * length)]))
        expect(nthSmallest(Float64Array.from(values), k)).toBe(sorted[k]);
    }
  });
});
