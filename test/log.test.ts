import fs from "node:fs";
import path from "node:path";
import { jobLogger, rotateLogFile } from "../lib/log.js";
import { runCli, tempHome, writeConfig } from "./helpers.js";

const files = (dir: string) => fs.readdirSync(dir).sort();
const lines = (file: string) => fs.readFileSync(file, "utf8").trim().split("\n");

describe("job log rotation", () => {
  test("a log past max_bytes is shifted to .1, .2, … and the oldest generation is dropped", () => {
    const dir = tempHome();
    const log = jobLogger(dir, "job", { max_bytes: 1024, generations: 2 });
    for (let i = 0; i < 100; i++) log.info(`line ${i} ${"x".repeat(60)}`);
    expect(files(dir)).toEqual(["job.log", "job.log.1", "job.log.2"]);
    for (const f of files(dir)) expect(fs.statSync(path.join(dir, f)).size).toBeLessThanOrEqual(1024);
    // Nothing lost between the generations that are kept: they hold the newest lines, in order.
    const kept = ["job.log.2", "job.log.1", "job.log"].flatMap((f) => lines(path.join(dir, f)));
    const numbers = kept.map((l) => Number(/line (\d+)/.exec(l)![1]));
    expect(numbers).toEqual(Array.from({ length: numbers.length }, (_, i) => 100 - numbers.length + i));
    expect(numbers.at(-1)).toBe(99);
  });

  test("callers without options keep working and get the 5 MiB default", () => {
    const dir = tempHome();
    jobLogger(dir, "old").info("hello");
    expect(lines(path.join(dir, "old.log"))[0]).toMatch(/INFO hello$/);
    expect(rotateLogFile(path.join(dir, "old.log"), { max_bytes: 5 * 1024 * 1024, generations: 3 })).toBe(false);
  });

  test("generations 0 keeps no old file; a missing log is not an error", () => {
    const dir = tempHome();
    const file = path.join(dir, "a.log");
    expect(rotateLogFile(file, { max_bytes: 1024, generations: 0 })).toBe(false);
    fs.writeFileSync(file, "x".repeat(2000));
    expect(rotateLogFile(file, { max_bytes: 1024, generations: 0 })).toBe(true);
    expect(files(dir)).toEqual([]);
  });

  test("the jobs use the configured logs section", async () => {
    const home = tempHome();
    writeConfig(home, { logs: { max_bytes: 2048, generations: 1 } });
    const logs = path.join(home, "logs");
    fs.mkdirSync(logs);
    fs.writeFileSync(path.join(logs, "backup.log"), "old line\n".repeat(300));
    fs.writeFileSync(path.join(logs, "cron.log"), "crash trace\n".repeat(300));
    expect((await runCli("ams-backup", ["--home", home])).exitCode).toBe(0);
    expect((await runCli("ams-cleanup", ["--home", home])).exitCode).toBe(0);
    expect(files(logs)).toEqual(["backup.log", "backup.log.1", "cleanup.log", "cron.log.1"]);
    expect(fs.readFileSync(path.join(logs, "backup.log"), "utf8")).toMatch(/^\S+ INFO created /);
  });

  test("a bad logs section is refused, naming the key", async () => {
    const home = tempHome();
    writeConfig(home, { logs: { generations: -1 } });
    const result = await runCli("ams-cleanup", ["--home", home]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("logs.generations");
  });
});
