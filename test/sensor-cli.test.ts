import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { amsPaths } from "../lib/paths.js";
import { parseProcStat } from "../sensors/cpu.js";
import { readSamples } from "../storage/store.js";
import { BUILTIN_METRICS } from "../alerts/metrics.js";
import { ALWAYS_MEASURED, fixture, runCli, tempHome, writeConfig } from "./helpers.js";

const FEED = fs.readFileSync(fixture("certfr-feed.xml"), "utf8");

describe("ams-sensor", () => {
  test("an unknown sensor exits 2 and lists the valid ones", async () => {
    const run = await runCli("ams-sensor", ["cpu", "bogus", "--home", tempHome()]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain(
      'unknown sensor "bogus"; valid: cpu, load, ram, disk, inodes, diskio, net, temperature, uptime, processes, users, cert, all',
    );
  });

  test("no sensor named is a usage error", async () => {
    expect((await runCli("ams-sensor", ["--home", tempHome()])).exitCode).toBe(2);
  });

  test("prints one readable line per stored record", async () => {
    const home = tempHome();
    writeConfig(home, { server_id: "web-1" });
    const run = await runCli("ams-sensor", ["ram", "disk", "--home", home]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/^RAM \d+(\.\d)? % on web-1$/m);
    expect(run.stdout).toMatch(/^Disk \/ \d+ % on web-1$/m);
    const stored = (await readSamples(amsPaths(home).store, "x")).samples;
    expect(stored.map((s) => s.metric_type).sort()).toEqual(
      ["Disk", ...Array(stored.length - 3).fill("Disk"), "RAM", "Swap"].sort(),
    );
    expect(fs.readFileSync(`${home}/logs/sensor.log`, "utf8")).toMatch(/INFO ram: 2 sample\(s\) stored in/);
  });

  test("--dry-run measures without storing; --json prints the records", async () => {
    const home = tempHome();
    const run = await runCli("ams-sensor", ["processes", "users", "--dry-run", "--json", "--home", home]);
    expect(run.exitCode).toBe(0);
    const printed = JSON.parse(run.stdout);
    expect(printed.map((s: { metric_type: string }) => s.metric_type)).toEqual(["Processes", "Users"]);
    expect(fs.existsSync(amsPaths(home).store)).toBe(false);
  });

  test("a bad config exits 1 naming the key", async () => {
    const home = tempHome();
    writeConfig(home, { sensors: { disk: { timeout: "ten" } } });
    const run = await runCli("ams-sensor", ["ram", "--home", home]);
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain("sensors.disk.timeout");
  });

  test("the validated config is reused only while the file is unchanged", async () => {
    const home = tempHome();
    writeConfig(home, { server_id: "web-1" });
    expect((await runCli("ams-sensor", ["ram", "--home", home])).stdout).toMatch(/ on web-1$/m);
    expect(fs.statSync(`${amsPaths(home).stateDir}/config.json`).mode & 0o777).toBe(0o600);
    writeConfig(home, { server_id: "web-2" });
    expect((await runCli("ams-sensor", ["ram", "--home", home])).stdout).toMatch(/ on web-2$/m);
    writeConfig(home, { server_id: "web-2", sensors: { disk: { timeout: "ten" } } });
    const bad = await runCli("ams-sensor", ["ram", "--home", home]);
    expect([bad.exitCode, bad.stderr]).toEqual([1, expect.stringContaining("sensors.disk.timeout")]);
  });

  test("a config rewritten in place with its mtime set back (cp -p, tar) is read again, not taken from the cache", async () => {
    const home = tempHome();
    const file = path.join(home, "ams.config.json");
    writeConfig(home, { server_id: "web-1" });
    await execa("cp", ["-p", file, `${file}.stamp`]);
    expect((await runCli("ams-sensor", ["ram", "--home", home])).stdout).toMatch(/ on web-1$/m);
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("web-1", "web-2")); // same inode, same size
    await execa("touch", ["-r", `${file}.stamp`, file]);
    expect((await runCli("ams-sensor", ["ram", "--home", home])).stdout).toMatch(/ on web-2$/m);
  });

  test("a corrupt store is moved aside, reported, and the command exits 1", async () => {
    const home = tempHome();
    const { store } = amsPaths(home);
    fs.mkdirSync(`${home}/storage`);
    fs.writeFileSync(store, "not json");
    const run = await runCli("ams-sensor", ["ram", "--home", home]);
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toMatch(/system_logs\.json: not valid JSON .*: moved aside to .*corrupt-/);
    const aside = fs.readdirSync(`${home}/storage`).filter((f) => f.includes(".corrupt-"));
    expect(aside).toHaveLength(1);
    expect(fs.readFileSync(`${home}/storage/${aside[0]}`, "utf8")).toBe("not json");
    expect((await readSamples(store, "x")).samples.map((s) => s.metric_type)).toEqual(["RAM", "Swap"]);
  });
});

describe("ams-sensor cert", () => {
  let server: http.Server;
  let base: string;
  const hits: string[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      hits.push(req.url!);
      if (req.url === "/alerte/feed/") res.writeHead(200, { "content-type": "application/rss+xml" }).end(FEED);
      else if (req.url === "/broken/feed/") res.writeHead(200).end(FEED.slice(0, 900));
      else if (req.url === "/huge/feed/") {
        // Far past any feed: the sensor must give up without reading it all.
        res.writeHead(200, { "content-type": "application/rss+xml" });
        const block = Buffer.alloc(1024 * 1024, " ");
        let sent = 0;
        const push = () => {
          while (sent < 64 && res.write(block)) sent++;
          if (sent < 64) res.once("drain", push);
          else res.end();
        };
        res.on("error", () => undefined);
        push();
      } else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  test("stores each advisory once, newest first, with title, link, date and feed", async () => {
    const home = tempHome();
    writeConfig(home, { server_id: "web-1", sensors: { cert: { feeds: [`${base}/alerte/feed/`] } } });
    const first = await runCli("ams-sensor", ["cert", "--home", home]);
    expect(first.exitCode).toBe(0);
    expect(first.stdout.split("\n")[0]).toBe(
      "CERT Vulnérabilité dans les produits IBM (18 avril 2025) <https://www.cert.ssi.gouv.fr/avis/CERTFR-2025-AVI-0337/> on web-1",
    );
    const stored = (await readSamples(amsPaths(home).store, "x")).samples;
    expect(stored).toHaveLength(5);
    expect(stored[3]!.details).toEqual({
      title: "Activités de post-exploitation dans Fortinet FortiGate (11 avril 2025)",
      link: "https://www.cert.ssi.gouv.fr/alerte/CERTFR-2025-ALE-004/",
      published: "2025-04-11T00:00:00.000Z",
      id: "CERTFR-2025-ALE-004",
      feed: "alerte",
    });
    const second = await runCli("ams-sensor", ["cert", "--home", home]);
    expect(second.exitCode).toBe(0);
    expect(second.stdout).toBe("");
    expect((await readSamples(amsPaths(home).store, "x")).samples).toHaveLength(5);
  });

  test.each([
    ["/broken/feed/", "malformed XML"],
    ["/missing/feed/", "HTTP 404"],
    ["/huge/feed/", "larger than 4194304 bytes"],
  ])("a bad feed (%s) says so, exits 1 and leaves the store untouched", async (feedPath, message) => {
    const home = tempHome();
    writeConfig(home, { sensors: { cert: { feeds: [`${base}/alerte/feed/`, `${base}${feedPath}`] } } });
    const run = await runCli("ams-sensor", ["cert", "--home", home]);
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain(`${base}${feedPath}`);
    expect(run.stderr).toContain(message);
    expect(fs.existsSync(amsPaths(home).store)).toBe(false);
  });

  test("no network: a clear error, exit 1, and the other sensors of `all` still store", async () => {
    const home = tempHome();
    // A port that was just free: nothing listens there, the connection is refused at once.
    const probe = http.createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    writeConfig(home, { sensors: { cert: { feeds: [`http://127.0.0.1:${port}/alerte/feed/`] } } });
    const run = await runCli("ams-sensor", ["all", "--home", home]);
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toMatch(
      new RegExp(`cert failed .*127\\.0\\.0\\.1:${port}/alerte/feed/: cannot fetch: .*ECONNREFUSED`),
    );
    const metrics = new Set((await readSamples(amsPaths(home).store, "x")).samples.map((s) => s.metric_type));
    // Every measured metric this machine has (no temperature sensor here), nothing of cert.
    expect([...metrics]).toEqual(expect.arrayContaining([...ALWAYS_MEASURED]));
    expect([...metrics].every((m) => BUILTIN_METRICS.includes(m) && m !== "CERT")).toBe(true);
  });
});

describe("ams-sensor cpu across runs", () => {
  const counters = () => parseProcStat(fs.readFileSync("/proc/stat", "utf8"));
  const saveState = (home: string, state: unknown) => {
    fs.mkdirSync(amsPaths(home).stateDir, { recursive: true });
    fs.writeFileSync(`${amsPaths(home).stateDir}/cpu.json`, JSON.stringify(state));
  };
  const cpuSample = async (home: string) => {
    const run = await runCli("ams-sensor", ["cpu", "--json", "--home", home]);
    expect(run.exitCode).toBe(0);
    return JSON.parse(run.stdout)[0] as { value: number; details: Record<string, unknown> };
  };

  test("counters that went backwards (reboot, wrap) mean a new one-second baseline, never a wild figure", async () => {
    const home = tempHome();
    const now = counters();
    const ahead = Object.fromEntries(Object.entries(now.total).map(([k, v]) => [k, v * 10 + 1_000_000]));
    saveState(home, { counters: ahead, btime: now.btime, at: Date.now() - 120_000 });
    const sample = await cpuSample(home);
    expect(sample.details.interval_seconds).toBeLessThan(5);
    expect(sample.value).toBeGreaterThanOrEqual(0);
    expect(sample.value).toBeLessThanOrEqual(100);
  });

  test("a long gap still gives the average over it, and says so", async () => {
    const home = tempHome();
    const now = counters();
    const earlier = Object.fromEntries(Object.entries(now.total).map(([k, v]) => [k, Math.floor(v * 0.9)]));
    saveState(home, { counters: earlier, btime: now.btime, at: Date.now() - 3_600_000 });
    const sample = await cpuSample(home);
    expect(sample.details.long_interval).toBe(true);
    expect(sample.details.interval_seconds).toBeGreaterThanOrEqual(3600);
    // The next run measures from the counters this one saved: a short, ordinary interval.
    const next = await cpuSample(home);
    expect(next.details.long_interval).toBeUndefined();
    expect(next.details.interval_seconds).toBeLessThan(60);
  });
});
