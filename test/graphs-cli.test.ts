import fs from "node:fs";
import path from "node:path";
import { runCli, tempHome } from "./helpers.js";
import { formatJsonArray } from "../storage/locked-file.js";
import { fleetSamples, writeFleetHome } from "./support/dashboard-fixture.js";
import { writeConfig } from "./helpers.js";
import { amsPaths } from "../lib/paths.js";
import { remoteCopy } from "../storage/fleet.js";
import { appendJsonArray } from "../storage/locked-file.js";
import { later, NOW, writeMultiSourceHome, writtenByAms } from "./support/multi-source-home.js";

const files = (dir: string) =>
  (fs.readdirSync(dir, { recursive: true }) as string[]).map((f) => f.split(path.sep).join("/")).sort();

/** Every file under `dir` with its bytes. */
const contents = (dir: string) =>
  new Map(
    files(dir)
      .filter((f) => fs.statSync(path.join(dir, f)).isFile())
      .map((f) => [f, fs.readFileSync(path.join(dir, f), "utf8")] as const),
  );

describe("ams-graphs", () => {
  test("a run that reads only what was appended draws what a run reading every store whole draws", async () => {
    const home = tempHome();
    writeMultiSourceHome(home);
    const paths = amsPaths(home);
    await writtenByAms(paths);
    const first = await runCli("ams-graphs", ["--home", home], { env: { AMS_NOW: new Date(NOW).toISOString() } });
    expect(first.stdout).toContain("stores read 0 from the last run's end and 3 whole");
    await appendJsonArray(paths.store, later("hub", NOW + 60_000));
    await appendJsonArray(remoteCopy(paths, "r1"), later("web-2", NOW + 60_000));
    const at = { env: { AMS_NOW: new Date(NOW + 5 * 60_000).toISOString() } };
    const second = await runCli("ams-graphs", ["--home", home], at);
    expect(second.stdout).toContain("stores read 3 from the last run's end and 0 whole");
    const incremental = contents(paths.publicDir);

    fs.rmSync(path.join(paths.stateDir, "series"), { recursive: true });
    fs.rmSync(paths.publicDir, { recursive: true });
    const whole = await runCli("ams-graphs", ["--home", home, "--force"], at);
    expect(whole.stdout).toContain("stores read 0 from the last run's end and 3 whole");
    expect(contents(paths.publicDir)).toEqual(incremental);
  });

  test("renders every page and chart, and says how much", async () => {
    const home = tempHome();
    writeFleetHome(home);
    const run = await runCli("ams-graphs", ["--home", home]);
    expect(run.stderr).toBe("");
    expect(run.exitCode).toBe(0);
    // 5 ranges (no 90 days: no rollups that old) × (2 servers × 6 series + 6 combined); pages: 5 × (2 + 1) + the index
    expect(run.stdout).toMatch(
      /^ams-graphs: 16 pages, 90 charts \(0 reused\) in [\d.]+ s, stores read 0 from the last run's end and 2 whole \(CPU [\d.]+ s, peak memory \d+ MB, largest chart [\d.]+ KB, largest page [\d.]+ KB\)/,
    );
    const written = files(path.join(home, "public"));
    expect(written).toContain("index.html");
    expect(written).toContain("style.css");
    expect(written).toContain("servers/web-1.html");
    expect(written).toContain("servers/web-1.7d.html");
    expect(written).toContain("servers/~22~3E~3Cscript~3E.html");
    expect(written).toContain("charts/1h.html");
    expect(written).not.toContain("charts/90d.html");
    expect(written).toContain("data/fleet/queue_depth-30d.csv");
    expect(written).toContain("data/web-1/CPU-1h.csv");
    expect(written.filter((f) => path.basename(f).startsWith("."))).toEqual([]);
  });

  test("--range and --server render a part; a full run removes what is gone", async () => {
    const home = tempHome();
    writeFleetHome(home);
    const partial = await runCli("ams-graphs", ["--home", home, "--range", "24h", "--server", "web-1"]);
    expect(partial.exitCode).toBe(0);
    expect(partial.stdout).toMatch(/2 pages, 6 charts/);
    expect(files(path.join(home, "public", "servers"))).toEqual(["web-1.html"]);
    expect(files(path.join(home, "public", "data"))).toEqual([
      "web-1",
      ...["CPU", "Disk.mount.~2F", "Processes", "RAM", "Users", "queue_depth"].map((m) => `web-1/${m}-24h.csv`).sort(),
    ]);

    expect((await runCli("ams-graphs", ["--home", home])).exitCode).toBe(0);
    // A server gone from the data and the remote taken out of the config: their pages and charts go,
    // though the remote's last copy stays on disk.
    fs.writeFileSync(
      path.join(home, "storage", "system_logs.json"),
      formatJsonArray(fleetSamples("web-1", Date.now())),
    );
    writeConfig(home, { server_id: "web-1" });
    const again = await runCli("ams-graphs", ["--home", home]);
    expect(again.exitCode).toBe(0);
    expect(files(path.join(home, "public", "servers"))).toEqual(
      ["web-1.html", ...["1h", "6h", "7d", "30d"].map((r) => `web-1.${r}.html`)].sort(),
    );
    expect(files(path.join(home, "public", "data")).filter((f) => f.includes("~22"))).toEqual([]);
    expect(fs.existsSync(path.join(home, "storage", "remote", "evil_logs.json"))).toBe(true);
  });

  test("bad flags and unknown servers are explained", async () => {
    const home = tempHome();
    writeFleetHome(home);
    const badRange = await runCli("ams-graphs", ["--home", home, "--range", "1y"]);
    expect(badRange.exitCode).toBe(2);
    expect(badRange.stderr).toContain('--range: unknown range "1y"; valid: 1h, 6h, 24h, 7d, 30d, 90d');
    const unknown = await runCli("ams-graphs", ["--home", home, "--server", "nope"]);
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toContain('no samples of server "nope"');
  });

  test("an empty data home still gets a dashboard", async () => {
    const home = tempHome();
    const run = await runCli("ams-graphs", ["--home", home]);
    expect(run.exitCode).toBe(0);
    // The index and the five fleet pages, each saying there is no data yet.
    expect(run.stdout).toMatch(/6 pages, 0 charts/);
    expect(fs.readFileSync(path.join(home, "public", "index.html"), "utf8")).toContain("No samples yet");
  });
});
