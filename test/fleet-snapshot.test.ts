import fs from "node:fs";
import path from "node:path";
import { parseConfig } from "../config/ams-config.js";
import { amsPaths } from "../lib/paths.js";
import { readFleet, remoteCopy } from "../storage/fleet.js";
import { appendJsonArray, formatJsonArray } from "../storage/locked-file.js";
import type { Sample } from "../storage/sample.js";
import { appendSamples } from "../storage/store.js";
import { fleetSnapshot } from "../web/fleet-snapshot.js";
import { tempHome } from "./helpers.js";

const cpu = (server: string, minute: number, value = minute): Sample => ({
  server_id: server,
  metric_type: "CPU",
  timestamp: new Date(Date.UTC(2026, 10, 25, 12, minute)).toISOString(),
  value,
  unit: "%",
});

describe("the fleet snapshot of /metrics", () => {
  test("read step by step (appends read as tails, rewrites and bad copies whole), it equals a whole read every time", async () => {
    const home = tempHome();
    const paths = amsPaths(home);
    const config = parseConfig(
      { server_id: "web-1", remotes: [{ name: "db", host: "db.example.org", user: "ams" }] },
      "t",
    );
    const copy = remoteCopy(paths, "db");
    fs.mkdirSync(path.dirname(copy), { recursive: true });
    const snapshot = fleetSnapshot(paths, config);
    const same = async (step: string) => {
      const [stepwise, whole] = [await snapshot.fleet(), await readFleet(paths, config)];
      expect([step, stepwise]).toEqual([step, whole]);
    };

    await appendSamples(paths.store, [cpu("web-1", 0), cpu("web-1", 1)]);
    await same("first read; no copy of db yet");
    await appendSamples(paths.store, [cpu("web-1", 2)]);
    await appendSamples(paths.store, [cpu("web-1", 3), cpu("web-1", 4)]);
    await same("two appends");
    fs.writeFileSync(copy, formatJsonArray([cpu("db", 0), cpu("intruder", 0)]));
    await same("a copy of db appears, with a record of a server db may not speak for");
    await appendJsonArray(copy, [cpu("db", 1)]);
    await appendJsonArray(copy, [cpu("db", 2), cpu("intruder", 2), { not: "a sample" }]);
    await same("the copy extended in place: own, foreign and unreadable records counted on");
    fs.writeFileSync(paths.store, formatJsonArray([cpu("web-1", 4, 99)]));
    await same("the store rewritten (cleanup)");
    fs.writeFileSync(copy, "[{");
    await same("an unreadable copy");
    fs.writeFileSync(copy, formatJsonArray([cpu("db", 5)]));
    await appendJsonArray(copy, [cpu("db", 6)]);
    await same("a good copy again, then appended to");
    expect(snapshot.reads).toBe(7);
    await same("nothing changed");
    expect(snapshot.reads).toBe(7);
  });
});
