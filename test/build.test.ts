import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { installDir } from "../lib/paths.js";

// Cron may start a job at any moment of a rebuild (npm start, npm test and npm run bench rebuild too).
describe("npm run build", () => {
  test("a job started during rebuilds always finds a complete dist/", async () => {
    const dist = path.join(installDir, "dist");
    const builds = async () => {
      for (let i = 0; i < 3; i++) await execa(process.execPath, [path.join(installDir, "scripts", "build.mjs")]);
    };
    let building = true;
    const rebuilt = builds().finally(() => (building = false));
    const failures: string[] = [];
    let runs = 0;
    // Bounded: about 3 rebuilds' worth of runs at most.
    while (building && runs < 400) {
      const run = await execa(process.execPath, [path.join(dist, "ams-sensor.js"), "--help"], { reject: false });
      runs++;
      if (run.exitCode !== 0 || !run.stdout.startsWith("Usage: ams-sensor")) failures.push(run.stderr || run.stdout);
    }
    await rebuilt;
    expect(failures).toEqual([]);
    expect(runs).toBeGreaterThan(3);
    // dist is a link to a complete build, switched in one rename; the builds it pointed to before are kept.
    const target = fs.readlinkSync(dist);
    expect(target).toMatch(/^dist-builds\/\d+-\d+$/);
    expect(fs.existsSync(path.join(installDir, target, "ams-sensor.js"))).toBe(true);
    expect(fs.readdirSync(path.join(installDir, "dist-builds")).length).toBeGreaterThanOrEqual(4);
  }, 120_000);
});
