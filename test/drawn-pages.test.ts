import fs from "node:fs";
import path from "node:path";
import { amsPaths } from "../lib/paths.js";
import { writeState } from "../lib/state.js";
import { formatJsonArray } from "../storage/locked-file.js";
import { appendSamples } from "../storage/store.js";
import { runCli, tempHome, writeConfig } from "./helpers.js";
import { fleetSamples, writeFleetHome } from "./support/dashboard-fixture.js";

const NOW = Date.parse("2026-11-20T12:00:00Z");
const graphs = (home: string, at: number, args: string[] = []) =>
  runCli("ams-graphs", ["--home", home, ...args], { env: { AMS_NOW: new Date(at).toISOString() } });
const DREW = /^ams-graphs: \d+ pages, \d+ charts/;
const UP_TO_DATE = "ams-graphs: pages up to date";

/** Every file of public/ with its bytes. */
function tree(dir: string): Map<string, string> {
  const files = (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) =>
    fs.statSync(path.join(dir, f)).isFile(),
  );
  return new Map(files.sort().map((f) => [f, fs.readFileSync(path.join(dir, f), "utf8")]));
}

const mtimes = (dir: string) =>
  [...tree(dir).keys()].map((f) => `${f} ${fs.statSync(path.join(dir, f)).mtimeMs}`).join("\n");

/** The local server's samples of one later time (the fixture's last six records are those of its newest time). */
const samplesAt = (at: number) => fleetSamples("web-1", at).slice(-6);

describe("ams-graphs draws only when what the pages show changed", () => {
  test("a run with nothing changed draws nothing; each input, the clock and a missing index make the next one draw", async () => {
    const home = tempHome();
    const paths = amsPaths(home);
    writeFleetHome(home, NOW);
    let at = NOW;
    expect((await graphs(home, at)).stdout).toMatch(DREW);
    const drawn = mtimes(paths.publicDir);
    const again = await graphs(home, at + 60_000);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toContain(UP_TO_DATE);
    expect(mtimes(paths.publicDir)).toBe(drawn);

    const changes: [string, () => unknown][] = [
      ["an append to the store", () => appendSamples(paths.store, samplesAt(NOW + 600_000))],
      [
        "a new copy of a remote's store",
        () => {
          fs.writeFileSync(path.join(paths.remoteDir, "evil_logs.json"), formatJsonArray(fleetSamples("evil", NOW)));
        },
      ],
      ["an ams-alert run (alert state)", () => runCli("ams-alert", ["check", "--home", home])],
      ["a pull status", () => writeState(paths.stateDir, "remote-pulls", {})],
      [
        "the config",
        () => {
          writeConfig(home, {
            server_id: "web-1",
            remotes: [{ name: "evil", host: "evil.example.org", user: "ams" }],
            graphs: { refresh: 600 },
          });
        },
      ],
      ["the index page removed", () => fs.rmSync(path.join(paths.publicDir, "index.html"))],
      [
        "the clock past graphs.refresh",
        () => {
          at += 600_000;
        },
      ],
      [
        "the clock set back",
        () => {
          at -= 1000;
        },
      ],
    ];
    for (const [change, apply] of changes) {
      await apply();
      const run = await graphs(home, at);
      expect([change, run.exitCode, run.stdout]).toEqual([change, 0, expect.stringMatching(DREW)]);
      expect([change, (await graphs(home, at)).stdout]).toEqual([change, expect.stringContaining(UP_TO_DATE)]);
    }
    expect((await graphs(home, at, ["--force"])).stdout).toMatch(DREW);
    // A partial drawing is not a whole one: the next whole run still draws.
    await appendSamples(paths.store, samplesAt(NOW + 1_200_000));
    expect((await graphs(home, at, ["--range", "1h"])).stdout).toMatch(DREW);
    expect((await graphs(home, at)).stdout).toMatch(DREW);
  });

  test("pages drawn after skipped runs and an append equal those of one run over the same data", async () => {
    const [stepwise, once] = [tempHome(), tempHome()];
    for (const home of [stepwise, once]) writeFleetHome(home, NOW);
    expect((await graphs(stepwise, NOW)).stdout).toMatch(DREW);
    expect((await graphs(stepwise, NOW)).stdout).toContain(UP_TO_DATE);
    // A minute later, within graphs.refresh: only the appended samples make it draw again.
    const later = NOW + 60_000;
    await appendSamples(amsPaths(stepwise).store, samplesAt(later));
    expect((await graphs(stepwise, later)).stdout).toMatch(DREW);

    await appendSamples(amsPaths(once).store, samplesAt(later));
    expect((await graphs(once, later)).stdout).toMatch(DREW);
    const [a, b] = [tree(amsPaths(stepwise).publicDir), tree(amsPaths(once).publicDir)];
    expect([...a.keys()]).toEqual([...b.keys()]);
    for (const [file, text] of a) expect([file, text]).toEqual([file, b.get(file)]);
    // The appended samples are on the pages: the second drawing did not reuse the first.
    expect(a.get(path.join("data", "web-1", "CPU-1h.csv"))).toContain(new Date(later).toISOString().slice(11, 16));
  });
});
