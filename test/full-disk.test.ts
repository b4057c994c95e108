import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { amsPaths } from "../lib/paths.js";
import { readSamples } from "../storage/store.js";
import { runCli, tempDir, writeConfig } from "./helpers.js";

// A data home on a real filesystem that fills up: a 1 MiB tmpfs this test mounts and unmounts.
let mountPoint: string;

beforeAll(async () => {
  mountPoint = tempDir("ams-full-");
  await execa("mount", ["-t", "tmpfs", "-o", "size=1m,mode=0755", "tmpfs", mountPoint]);
});

afterAll(async () => {
  if (mountPoint) await execa("umount", [mountPoint], { reject: false });
});

/** Fills the filesystem to the last byte; returns the filler file. */
function fill(dir: string): string {
  const filler = path.join(dir, "filler");
  const fd = fs.openSync(filler, "w");
  try {
    const chunk = Buffer.alloc(4096, 1);
    for (;;) fs.writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
  } finally {
    fs.closeSync(fd);
  }
  return filler;
}

describe("a data home whose disk is full", () => {
  test("a sensor run fails with exit 1 saying so, the store is left whole, and the next run after space returns stores again", async () => {
    const home = path.join(mountPoint, "ams");
    fs.mkdirSync(home);
    writeConfig(home, { server_id: "web-1" });
    const store = amsPaths(home).store;
    expect((await runCli("ams-sensor", ["ram", "--home", home])).exitCode).toBe(0);
    const before = fs.readFileSync(store, "utf8");

    const filler = fill(mountPoint);
    const full = await runCli("ams-sensor", ["ram", "--home", home]);
    expect(full.exitCode).toBe(1);
    expect(full.stderr).toMatch(/^ams-sensor: \/.*: .*no space left on device/);
    expect(fs.readFileSync(store, "utf8")).toBe(before);
    expect(fs.readdirSync(amsPaths(home).stateDir).filter((f) => f.includes(".run.lock"))).toEqual([]);

    fs.rmSync(filler);
    const again = await runCli("ams-sensor", ["ram", "--home", home]);
    expect([again.exitCode, again.stderr]).toEqual([0, ""]);
    expect((await readSamples(store, "x")).samples.map((s) => s.metric_type)).toEqual(["RAM", "Swap", "RAM", "Swap"]);
  });
});
