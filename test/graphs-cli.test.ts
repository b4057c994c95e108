import fs from "node:fs";
import path from "node:path";
import { runCli, tempHome } from "./helpers.js";
import { formatJsonArray } from "../storage/locked-file.js";
import { fleetSamples, writeFleetHome } from "./support/dashboard-fixture.js";
import { writeConfig } from "./helpers.js";

const files = (dir: string) =>
  (fs.readdirSync(dir, { recursive: true }) as string[]).map((f) => f.split(path.sep).join("/")).sort();

describe("ams-graphs", () => {
  test("renders every page and chart, and says how much", async () => {
    const home = tempHome();
    writeFleetHome(home);
    const run = await runCli("ams-graphs", ["--home", home]);
    expect(run.stderr).toBe("");
    expect(run.exitCode).toBe(0);
    // 2 servers × 6 series × 3 ranges + 6 combined × 3 ranges
    expect(run.stdout).toMatch(
      /^ams-graphs: 3 pages, 54 charts in [\d.]+ s \(CPU [\d.]+ s, peak memory \d+ MB, largest chart [\d.]+ KB\)/,
    );
    const written = files(path.join(home, "public"));
    expect(written).toContain("index.html");
    expect(written).toContain("style.css");
    expect(written).toContain("servers/web-1.html");
    expect(written).toContain("servers/~22~3E~3Cscript~3E.html");
    expect(written).toContain("charts/fleet/queue_depth-30d.svg");
    expect(written.filter((f) => path.basename(f).startsWith("."))).toEqual([]);
  });

  test("--range and --server render a part; a full run removes what is gone", async () => {
    const home = tempHome();
    writeFleetHome(home);
    const partial = await runCli("ams-graphs", ["--home", home, "--range", "24h", "--server", "web-1"]);
    expect(partial.exitCode).toBe(0);
    expect(partial.stdout).toMatch(/2 pages, 6 charts/);
    expect(files(path.join(home, "public", "charts"))).toEqual([
      "servers",
      "servers/web-1",
      ...["CPU", "Disk.mount.~2F", "Processes", "RAM", "Users", "queue_depth"]
        .map((m) => `servers/web-1/${m}-24h.svg`)
        .sort(),
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
    expect(files(path.join(home, "public", "servers"))).toEqual(["web-1.html"]);
    expect(files(path.join(home, "public", "charts")).filter((f) => f.includes("~22"))).toEqual([]);
    expect(fs.existsSync(path.join(home, "storage", "remote", "evil_logs.json"))).toBe(true);
  });

  test("bad flags and unknown servers are explained", async () => {
    const home = tempHome();
    writeFleetHome(home);
    const badRange = await runCli("ams-graphs", ["--home", home, "--range", "1y"]);
    expect(badRange.exitCode).toBe(2);
    expect(badRange.stderr).toContain('--range: unknown range "1y"; valid: 24h, 7d, 30d');
    const unknown = await runCli("ams-graphs", ["--home", home, "--server", "nope"]);
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toContain('no samples of server "nope"');
  });

  test("an empty data home still gets a dashboard", async () => {
    const home = tempHome();
    const run = await runCli("ams-graphs", ["--home", home]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/1 pages, 0 charts/);
    expect(fs.readFileSync(path.join(home, "public", "index.html"), "utf8")).toContain("No samples yet");
  });
});
