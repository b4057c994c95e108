import fs from "node:fs";
import path from "node:path";
import { parseConfig } from "../config/ams-config.js";
import { FleetDigest } from "../graphs/fleet-digest.js";
import { digestFleet } from "../graphs/series-cache.js";
import type { Logger } from "../lib/log.js";
import { amsPaths, type Paths } from "../lib/paths.js";
import { remoteCopy } from "../storage/fleet.js";
import { appendJsonArray, formatJsonArray, readJsonArray } from "../storage/locked-file.js";
import { tempHome, writeConfig } from "./helpers.js";
import { later, NOW, writeMultiSourceHome, writtenByAms } from "./support/multi-source-home.js";

const BUILD = "test-build";

interface Run {
  warnings: string[];
  infos: string[];
}

/** The digest of the home's fleet, through the kept state of `build` (none: a whole read that keeps nothing). */
async function digestOf(home: string, build: string | undefined, run: Run = { warnings: [], infos: [] }) {
  const paths = amsPaths(home);
  const config = parseConfig(JSON.parse(fs.readFileSync(paths.config, "utf8")), paths.config);
  const log: Logger = {
    info: (message) => void run.infos.push(message),
    warn: (message) => void run.warnings.push(message),
    error: (message) => void run.warnings.push(message),
  };
  const digest = new FleetDigest();
  const { sources, reads } = await digestFleet(paths, config, digest, log, () => {}, build);
  return { sources, reads, series: digest.series(), samples: digest.dashboardSamples() };
}

/** What a run gives the pages, without how it read the stores. */
const shown = ({ sources, series, samples }: Awaited<ReturnType<typeof digestOf>>) => ({ sources, series, samples });

const kept = (paths: Paths, name: string, ext: "json" | "points") =>
  path.join(paths.stateDir, "series", `${name}.${ext}`);

describe("ams-graphs reads of each store only what was appended since its last run", () => {
  test("the digest from the kept state and the appended records equals a whole read's", async () => {
    const home = tempHome();
    writeMultiSourceHome(home);
    const paths = amsPaths(home);
    await writtenByAms(paths);
    const first = await digestOf(home, BUILD);
    expect(first.reads).toEqual({ tail: 0, whole: 3 });
    expect(shown(first)).toEqual(shown(await digestOf(home, undefined)));

    // Appended in place, as the sensors and the pulls append: records of every kind, and some a remote may not send.
    await appendJsonArray(paths.store, [...later("hub", NOW), { not: "a sample" }]);
    await appendJsonArray(remoteCopy(paths, "r1"), [...later("web-2", NOW), ...later("intruder", NOW)]);
    const unchanged = fs.readFileSync(remoteCopy(paths, "r2"));

    const run = { warnings: [], infos: [] };
    const second = await digestOf(home, BUILD, run);
    expect(second.reads).toEqual({ tail: 3, whole: 0 });
    expect(run.warnings).toEqual([]);
    const whole = await digestOf(home, undefined);
    expect(shown(second)).toEqual(shown(whole));
    expect(second.sources.map((s) => [s.name, s.skipped, s.foreign ?? 0])).toEqual([
      ["local", 2, 0],
      ["r1", 0, 3 + later("intruder", NOW).length],
      ["r2", 0, 0],
    ]);
    // What the appended records brought is there: the new series, the first rollup, the event.
    expect(second.series.some((s) => s.server === "hub" && s.metric === "Load1")).toBe(true);
    expect(second.series.find((s) => s.server === "web-2" && s.metric === "Users")!.rollups).toBeDefined();
    expect(second.samples.filter((s) => s.metric_type === "Reboot").map((s) => s.server_id)).toEqual([
      "web-2",
      "hub",
      "web-2",
    ]);

    // A third run over stores nothing was appended to reads nothing new and writes nothing.
    const before = fs.statSync(kept(paths, "r2", "json")).mtimeMs;
    const third = await digestOf(home, BUILD);
    expect(third.reads).toEqual({ tail: 3, whole: 0 });
    expect(shown(third)).toEqual(shown(whole));
    expect(fs.statSync(kept(paths, "r2", "json")).mtimeMs).toBe(before);
    expect(fs.readFileSync(remoteCopy(paths, "r2"))).toEqual(unchanged);
  });

  test("a store rewritten, another build, another config or a damaged kept state: read whole, the same digest", async () => {
    const home = tempHome();
    writeMultiSourceHome(home);
    const paths = amsPaths(home);
    await digestOf(home, BUILD);

    // Rewritten as ams-cleanup does (a new file), with records before the old end changed.
    const records = await readJsonArray(paths.store);
    const rewritten = path.join(home, "storage", "rewritten.json");
    fs.writeFileSync(rewritten, formatJsonArray([...records.slice(10), ...later("hub", NOW)]));
    fs.renameSync(rewritten, paths.store);
    const run = { warnings: [], infos: [] as string[] };
    const afterRewrite = await digestOf(home, BUILD, run);
    expect(afterRewrite.reads).toEqual({ tail: 2, whole: 1 });
    expect(run.infos).toEqual([`${paths.store}: read whole (replaced)`]);
    expect(shown(afterRewrite)).toEqual(shown(await digestOf(home, undefined)));

    // Another build gathers afresh.
    expect((await digestOf(home, "another-build")).reads).toEqual({ tail: 0, whole: 3 });

    // A damaged points file: reported, its store read whole.
    fs.truncateSync(kept(paths, "r1", "points"), 16);
    const damaged = { warnings: [] as string[], infos: [] };
    const afterDamage = await digestOf(home, "another-build", damaged);
    expect(afterDamage.reads).toEqual({ tail: 2, whole: 1 });
    expect(damaged.warnings).toEqual([
      expect.stringContaining(`${kept(paths, "r1", "points")}: does not hold the points`),
    ]);
    expect(shown(afterDamage)).toEqual(shown(await digestOf(home, undefined)));

    // A points file replaced by another (a killed whole read's, here the same bytes in a new file): not taken.
    const points = kept(paths, "r1", "points");
    fs.copyFileSync(points, `${points}.new`);
    fs.renameSync(`${points}.new`, points);
    const replaced = { warnings: [] as string[], infos: [] };
    expect((await digestOf(home, "another-build", replaced)).reads).toEqual({ tail: 2, whole: 1 });
    expect(replaced.warnings).toEqual([expect.stringContaining(`${points}: does not hold the points`)]);

    // A kept state that is not JSON: set aside and reported.
    fs.writeFileSync(kept(paths, "r2", "json"), "{ torn");
    const corrupt = { warnings: [] as string[], infos: [] };
    expect((await digestOf(home, "another-build", corrupt)).reads).toEqual({ tail: 2, whole: 1 });
    expect(corrupt.warnings).toEqual([expect.stringMatching(/r2\.json: not valid JSON .*moved aside/)]);

    // r1 may no longer speak for web-2 and r2 is gone: r1 is read whole for the new config, r2's state goes.
    writeConfig(home, { server_id: "hub", remotes: [{ name: "r1", host: "r1.example.org", user: "ams" }] });
    const narrowed = await digestOf(home, "another-build");
    expect(narrowed.reads).toEqual({ tail: 1, whole: 1 });
    expect(shown(narrowed)).toEqual(shown(await digestOf(home, undefined)));
    expect(
      fs
        .readdirSync(path.join(paths.stateDir, "series"))
        .filter((f) => !f.includes(".corrupt-"))
        .sort(),
    ).toEqual(["local.json", "local.points", "r1.json", "r1.points"]);
  });
});
