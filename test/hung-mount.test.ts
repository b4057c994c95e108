import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { amsPaths } from "../lib/paths.js";
import { readSamples } from "../storage/store.js";
import { installDir } from "../lib/paths.js";
import { runCli, tempHome, writeConfig } from "./helpers.js";
import { mountSshfs, type DeadMount } from "./support/dead-mount.js";

// A real hung network filesystem (sshfs whose server is stopped), measured by the built ams-sensor.
let dead: DeadMount;

beforeAll(async () => {
  dead = await mountSshfs();
});

afterAll(async () => {
  await dead?.remove();
});

/** The built ams-sensor, run where the mount is visible. */
const sensor = (args: string[]) =>
  dead.run(process.execPath, [path.join(installDir, "dist", "ams-sensor.js"), ...args], { timeout: 30_000 });

/** The `stat -f` processes waiting on the mount, as ps sees them. */
async function statProcesses(mountPoint: string): Promise<number[]> {
  const ps = await execa("ps", ["-eo", "pid=,args="]);
  return ps.stdout
    .split("\n")
    .filter((line) => line.includes("stat -f") && line.trimEnd().endsWith(` ${mountPoint}`))
    .map((line) => Number(line.trim().split(" ")[0]));
}

async function waitFor(check: () => Promise<boolean>, tries = 100): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

describe("a mount whose server stopped answering (statfs hangs in the kernel)", () => {
  test("the job ends on its own, stores the other mounts, remembers the stuck one and skips it until it answers", async () => {
    const home = tempHome();
    // The job's own deadline is well above the mount's timeout: ending at the deadline (exit 1) would fail the test.
    writeConfig(home, { server_id: "web-1", sensors: { disk: { timeout: "1s" } }, deadlines: { sensor: "20s" } });
    const paths = amsPaths(home);
    const stored = async () => (await readSamples(paths.store, "x")).samples;
    const ofMount = async (metric: string) =>
      (await stored()).filter((s) => s.metric_type === metric && s.labels?.mount === dead.mountPoint);

    // Answering: measured like any disk.
    const healthy = await sensor(["disk", "inodes", "--home", home]);
    expect(healthy.exitCode).toBe(0);
    expect(await ofMount("Disk")).toHaveLength(1);
    const inodesAnswering = (await ofMount("Inodes")).length;

    await dead.freeze();
    const first = await sensor(["disk", "inodes", "--home", home]);
    expect(first.exitCode).toBe(0);
    expect(first.stderr).toContain(`${dead.mountPoint} does not answer statfs since`);
    expect(first.stderr).not.toContain("deadline");
    const afterFirst = await stored();
    expect(afterFirst.filter((s) => s.metric_type === "Disk" && s.labels?.mount === "/")).toHaveLength(2);
    expect(await ofMount("Disk")).toHaveLength(1);
    const [status] = await ofMount("disk_status");
    expect(status).toMatchObject({ value: 2, unit: "state", details: { status: "stuck", fs_type: "fuse.sshfs" } });
    // disk and inodes share one measurement: one process waits on the mount, and inodes skips it.
    const stuck = await statProcesses(dead.mountPoint);
    expect(stuck).toHaveLength(1);
    expect(await ofMount("Inodes")).toHaveLength(inodesAnswering);
    expect(status!.details!.probe_pid).toBe(stuck[0]);

    // Later runs leave the mount alone: no second process waits on it.
    const second = await sensor(["disk", "inodes", "--home", home]);
    expect(second.exitCode).toBe(0);
    expect(second.stderr).toContain(
      `${dead.mountPoint} does not answer statfs since ${String(status!.details!.since)}`,
    );
    expect(await statProcesses(dead.mountPoint)).toEqual(stuck);
    expect(await ofMount("Inodes")).toHaveLength(inodesAnswering);
    const statuses = await ofMount("disk_status");
    expect(statuses.map((s) => [s.value, s.details!.since])).toEqual([
      [2, status!.details!.since],
      [2, status!.details!.since],
    ]);
    expect((await stored()).filter((s) => s.metric_type === "Disk" && s.labels?.mount === "/")).toHaveLength(3);

    // The pages and the default alert rule see it.
    expect((await runCli("ams-graphs", ["--home", home])).exitCode).toBe(0);
    const page = fs.readFileSync(path.join(home, "public", "servers", "web-1.html"), "utf8");
    expect(page).toContain(`<td><bdi>${dead.mountPoint}</bdi></td>`);
    expect(page).toMatch(/<span class="error">stuck since <time/);
    const alert = await runCli("ams-alert", ["--home", home, "check", "--dry-run"]);
    expect(alert.stdout).toContain(`FIRED [critical] disk_unreadable/web-1{mount="${dead.mountPoint}"}`);

    // The server answers again: the stuck call returns, the next run measures the mount.
    await dead.thaw();
    expect(await waitFor(async () => (await statProcesses(dead.mountPoint)).length === 0)).toBe(true);
    const third = await sensor(["disk", "inodes", "--home", home]);
    expect(third.exitCode).toBe(0);
    expect(third.stderr).toBe("");
    expect(await ofMount("Disk")).toHaveLength(2);
    expect((await ofMount("disk_status")).map((s) => s.value)).toEqual([2, 2, 0]);
    expect(JSON.parse(fs.readFileSync(path.join(paths.stateDir, "mount-probes.json"), "utf8"))).toEqual({});
  });
});
