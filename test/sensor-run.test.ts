import fs from "node:fs";
import { parseConfig } from "../config/ams-config.js";
import { jobLogger } from "../lib/log.js";
import { amsPaths } from "../lib/paths.js";
import { runSensors } from "../sensors/run.js";
import { makeSample, PartialFailure, type Sensor, type SensorContext } from "../sensors/sensor.js";
import { readSamples } from "../storage/store.js";
import { tempHome } from "./helpers.js";

function context(): SensorContext {
  const paths = amsPaths(tempHome());
  fs.mkdirSync(paths.logsDir, { recursive: true });
  return {
    paths,
    config: parseConfig({ server_id: "web-1" }, "test"),
    log: jobLogger(paths.logsDir, "sensor"),
    now: () => new Date(),
  };
}

const sensor = (name: string, collect: Sensor["collect"], extra: Partial<Sensor> = {}): Sensor => ({
  name,
  description: name,
  metrics: [],
  collect,
  ...extra,
});

test("several sensors store together; a failing or refused one fails alone; a deduping one still dedupes", async () => {
  const ctx = context();
  const linked = (link: string) => makeSample(ctx, "CERT", 1, "advisory", { details: { link } });
  const sensors = [
    sensor("a", async () => [makeSample(ctx, "A", 1, "")]),
    sensor("b", async () => {
      throw new PartialFailure([makeSample(ctx, "B", 2, "")], "half measured");
    }),
    sensor("bad", async () => [makeSample(ctx, "C", Number.NaN, "")]),
    sensor("cert", async () => [linked("x"), linked("x"), linked("y")], {
      dedupeKey: (s) => s.details?.link as string,
    }),
  ];
  const first = await runSensors(sensors, ctx);
  expect(first.outcomes.map((o) => [o.sensor, o.samples.length, o.error?.message])).toEqual([
    ["a", 1, undefined],
    ["b", 1, "half measured"],
    ["bad", 0, "sample 0 (C): value: expected a finite number"],
    ["cert", 2, undefined],
  ]);
  const again = await runSensors(sensors.slice(3), ctx);
  expect(again.outcomes[0]!.samples).toEqual([]);
  const stored = (await readSamples(ctx.paths.store, "x")).samples.map((s) => s.metric_type);
  expect(stored.sort()).toEqual(["A", "B", "CERT", "CERT"]);
});
