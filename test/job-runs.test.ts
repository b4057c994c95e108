import fs from "node:fs";
import path from "node:path";
import { amsPaths } from "../lib/paths.js";
import { isoLocal } from "../lib/time.js";
import { appendSamples } from "../storage/store.js";
import { runCli, tempHome, writeConfig } from "./helpers.js";
import { startSmtp, type TestSmtp } from "./support/smtp.js";

// Every cron job runs one at a time and within its deadline (lib/cli.ts openJob), shown on a job
// made slow for real: ams-alert delivering to an SMTP server that never answers the mail's DATA.
const NOW = "2026-11-25T12:00:00.000Z";

let stalling: TestSmtp;
let healthy: TestSmtp;
beforeAll(async () => {
  stalling = await startSmtp({ stallData: true });
  healthy = await startSmtp();
});
afterAll(async () => {
  await stalling.close();
  await healthy.close();
});

async function alertHome(port: number): Promise<string> {
  const home = tempHome();
  writeConfig(home, {
    server_id: "web-1",
    // The transport would wait 60 s: the job's deadline, 3 s, comes first.
    email: { host: "127.0.0.1", port, starttls: false, timeout: "60s", from: "ams@example.org", to: ["a@example.org"] },
    deadlines: { alert: "3s" },
  });
  await appendSamples(amsPaths(home).store, [
    {
      server_id: "web-1",
      metric_type: "Disk",
      timestamp: isoLocal(new Date(NOW)),
      value: 99,
      unit: "%",
      labels: { mount: "/" },
    },
  ]);
  return home;
}

const alert = (home: string, args = ["check"]) =>
  runCli("ams-alert", ["--home", home, ...args], { env: { AMS_NOW: NOW } });
const lockFile = (home: string) => path.join(amsPaths(home).stateDir, "alert.run.lock");

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 50));
  if (!check()) throw new Error("gave up waiting");
}

/** Plants storage/state/<name>.run.lock as held by a live process: this test's. */
function holdRunLock(home: string, name: string): void {
  const stateDir = amsPaths(home).stateDir;
  fs.mkdirSync(stateDir, { recursive: true });
  const me = fs.readFileSync("/proc/self/stat", "utf8");
  const start = me.slice(me.lastIndexOf(")") + 2).split(" ")[19];
  const boot = fs.readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  fs.writeFileSync(
    path.join(stateDir, `${name}.run.lock`),
    JSON.stringify({ pid: process.pid, start, boot, since: "2026-11-25T11:59:00.000Z" }),
  );
}

describe("a cron job that is still running when cron starts it again", () => {
  test("the second run says since when the first runs and exits 0; the first stops at its deadline with exit 1, its mail kept queued", async () => {
    const home = await alertHome(stalling.port);
    const stalledBefore = stalling.stalled;
    const first = alert(home);
    await until(() => stalling.stalled > stalledBefore);

    const holder = JSON.parse(fs.readFileSync(lockFile(home), "utf8"));
    expect(holder.pid).toBe(first.pid);
    const second = await alert(home);
    expect(second.exitCode).toBe(0);
    expect(second.stderr).toBe(
      `ams-alert: warning: previous run still going since ${holder.since} (pid ${first.pid}): this run is skipped`,
    );
    expect(stalling.stalled).toBe(stalledBefore + 1);

    const ended = await first;
    expect(ended.exitCode).toBe(1);
    expect(ended.stderr).toContain(
      "ams-alert: stopped at its deadline of 3 s (config deadlines.alert): work not finished",
    );
    expect(fs.existsSync(lockFile(home))).toBe(false);
    // Still in the e-mail channel's queue: the fire of both disk alerts, one mail.
    expect((await alert(home, ["list"])).stdout).toMatch(
      /^queued {2}email \S+: 2 alert\(s\) \(0 failed attempt\(s\)\)$/m,
    );
    expect(fs.readFileSync(path.join(home, "logs", "alert.log"), "utf8")).toMatch(
      /WARN previous run still going since/,
    );
  }, 30_000);

  test("a run killed while holding the lock does not block the next one, which delivers the queued mail", async () => {
    const home = await alertHome(stalling.port);
    const stalledBefore = stalling.stalled;
    const killed = alert(home);
    await until(() => stalling.stalled > stalledBefore);
    killed.kill("SIGKILL");
    expect((await killed).signal).toBe("SIGKILL");
    expect(JSON.parse(fs.readFileSync(lockFile(home), "utf8")).pid).toBe(killed.pid);

    // The SMTP server is fixed; the next cron run goes ahead. It also waits out the store lock the
    // killed run left (stale after 20 s, storage/locked-file.ts): the default deadline leaves room for that.
    const config = JSON.parse(fs.readFileSync(amsPaths(home).config, "utf8"));
    writeConfig(home, { ...config, email: { ...config.email, port: healthy.port }, deadlines: {} });
    const receivedBefore = healthy.received.length;
    const next = await alert(home);
    expect([next.exitCode, next.stderr]).toEqual([0, ""]);
    expect(healthy.received.slice(receivedBefore).map((r) => r.mail.subject)).toEqual([
      "[AMS] 2 alerts, worst critical: FIRING web-1 Disk /",
    ]);
    expect(fs.existsSync(lockFile(home))).toBe(false);
  }, 60_000);

  test("runs of different sensor lists go side by side; the same list does not", async () => {
    const home = tempHome();
    // A lock held by a live process (this test's) for "ram": that list is skipped, "users" is not.
    holdRunLock(home, "sensor-ram");
    const ram = await runCli("ams-sensor", ["ram", "--home", home]);
    expect([ram.exitCode, ram.stdout]).toEqual([0, ""]);
    expect(ram.stderr).toContain(
      `previous run of ram still going since 2026-11-25T11:59:00.000Z (pid ${process.pid}): this run is skipped`,
    );
    const users = await runCli("ams-sensor", ["users", "--home", home]);
    expect([users.exitCode, users.stderr]).toEqual([0, ""]);
    expect(users.stdout).toMatch(/^Users \d+ on /);
  });

  test("ams-alert silence add goes ahead while a check waits on a slow mail server; the check's queue save keeps the silence", async () => {
    const slow = await startSmtp({ delayFirstAnswerMs: 8000 });
    try {
      const home = await alertHome(slow.port);
      const config = JSON.parse(fs.readFileSync(amsPaths(home).config, "utf8"));
      writeConfig(home, { ...config, deadlines: {} });
      let delivered = false;
      const check = alert(home);
      void check.then(() => (delivered = true));
      await until(() => slow.received.length > 0);
      const add = await alert(home, `silence add --match server=db-1 --for 1h --comment upgrade`.split(" "));
      expect([add.exitCode, add.stderr, delivered]).toEqual([0, "", false]);
      expect((await check).exitCode).toBe(0);
      const list = await alert(home, ["list"]);
      expect(list.stdout).toContain(`silence ${add.stdout.trim()}  active`);
      expect(list.stdout).not.toContain("queued");
    } finally {
      await slow.close();
    }
  }, 60_000);

  test("ams-alert silence and list take no run lock: they go ahead while a check holds it", async () => {
    const home = await alertHome(healthy.port);
    holdRunLock(home, "alert");
    const check = await alert(home);
    expect([check.exitCode, check.stderr]).toEqual([
      0,
      `ams-alert: warning: previous run still going since 2026-11-25T11:59:00.000Z (pid ${process.pid}): this run is skipped`,
    ]);
    const add = await alert(home, ["silence", "add", "--match", "server=web-1", "--for", "1h", "--comment", "upgrade"]);
    expect([add.exitCode, add.stderr]).toEqual([0, ""]);
    const list = await alert(home, ["list"]);
    expect([list.exitCode, list.stderr]).toEqual([0, ""]);
    expect(list.stdout).toContain(`silence ${add.stdout.trim()}  active`);
  });
});
