// Stores of every size up to the caps, and sources that cannot be read: every job either does its
// work or fails loudly (exit 1), never drops a server in silence, never deletes the last good pages.
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { parseConfig } from "../../config/ams-config.js";
import { amsPaths } from "../../lib/paths.js";
import { readFleet } from "../../storage/fleet.js";
import { formatJsonArray } from "../../storage/locked-file.js";
import type { Sample } from "../../storage/sample.js";
import { metricsHandler } from "../../web/metrics.js";
import { runCli, tempHome, writeConfig } from "../helpers.js";
import { startSshd } from "../support/sshd.js";

const NOW = Date.now();
const BIG = 150_000;

/** `count` CPU samples of `server`, 10 s apart, ending now; the last 30 min at 97 % (a crisis). */
function cpuSamples(server: string, count: number): Sample[] {
  return Array.from({ length: count }, (_, i) => {
    const at = NOW - (count - 1 - i) * 10_000;
    return {
      server_id: server,
      metric_type: "CPU",
      timestamp: new Date(at).toISOString(),
      value: NOW - at <= 30 * 60_000 ? 97 : i % 50,
      unit: "%",
    };
  });
}

const cli = (name: string, home: string, args: string[] = []) =>
  runCli(name, ["--home", home, ...args], { env: { AMS_NOW: new Date(NOW).toISOString() }, timeout: 120_000 });

async function metricsOf(home: string, configJson: object): Promise<string> {
  const handler = metricsHandler(amsPaths(home), parseConfig(configJson, "cfg.json"));
  const server = http.createServer((req, res) => void handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    return await (await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`)).text();
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

describe("stores up to the caps", () => {
  test(`a ${BIG}-record store is read by every job: alerts fire, pages render, cleanup shrinks it`, async () => {
    const home = tempHome();
    const config = { server_id: "big", remotes: [{ name: "far", host: "far.example.org", user: "ams" }] };
    writeConfig(home, config);
    const paths = amsPaths(home);
    fs.mkdirSync(paths.remoteDir, { recursive: true });
    fs.writeFileSync(paths.store, formatJsonArray(cpuSamples("big", BIG)));
    fs.writeFileSync(path.join(paths.remoteDir, "far_logs.json"), formatJsonArray(cpuSamples("far", BIG)));

    const fleet = await readFleet(paths, parseConfig(config, "cfg.json"));
    expect(fleet.sources.map((s) => [s.name, s.samples, s.error])).toEqual([
      ["local", BIG, undefined],
      ["far", BIG, undefined],
    ]);

    const alert = await cli("ams-alert", home);
    expect([alert.exitCode, alert.stderr]).toEqual([0, ""]);
    expect(alert.stdout).toContain("FIRED [warning] cpu_high/big");
    expect(alert.stdout).toContain("FIRED [warning] cpu_high/far");

    const graphs = await cli("ams-graphs", home);
    expect([graphs.exitCode, graphs.stderr]).toEqual([0, ""]);
    expect(fs.existsSync(path.join(paths.publicDir, "servers", "far.html"))).toBe(true);

    const cleanup = await cli("ams-cleanup", home);
    expect([cleanup.exitCode, cleanup.stderr]).toEqual([0, ""]);
    expect(cleanup.stdout).toMatch(new RegExp(`^${BIG} → \\d+ records`));
  }, 300_000);

  test("a record nested 500,000 levels deep makes the store unreadable with a clear error, never a stack overflow", async () => {
    const home = tempHome();
    writeConfig(home, { server_id: "web-1" });
    const paths = amsPaths(home);
    fs.mkdirSync(path.dirname(paths.store), { recursive: true });
    const deep = "[".repeat(500_000) + "]".repeat(500_000);
    const good = formatJsonArray(cpuSamples("web-1", 10));
    fs.writeFileSync(paths.store, good.replace(/\n\]\n$/, `,\n${deep}\n]\n`));

    const graphs = await cli("ams-graphs", home);
    expect(graphs.exitCode).toBe(1);
    expect(graphs.stderr).toContain("record 10 nests more than 100 levels deep");

    const cleanup = await cli("ams-cleanup", home);
    expect(cleanup.exitCode).toBe(1);
    expect(cleanup.stderr).not.toMatch(/call stack/);
    expect(cleanup.stderr).toMatch(/record 10 nests more than 100 levels deep: moved aside to \S+\.corrupt-/);
    const aside = fs.readdirSync(path.dirname(paths.store)).filter((f) => f.includes(".corrupt-"));
    expect(aside).toHaveLength(1);
    expect(fs.statSync(path.join(path.dirname(paths.store), aside[0]!)).size).toBeGreaterThan(1_000_000);
    // The store works again: the next run is a plain success.
    expect((await cli("ams-cleanup", home)).exitCode).toBe(0);
  }, 120_000);
});

describe("ams-fetch-remote over a real sshd", () => {
  test(`keeps a ${BIG}-record copy that every reader then reads, and refuses a copy no reader could read`, async () => {
    const sshd = await startSshd();
    try {
      const served = path.join(sshd.dir, "system_logs.json");
      const home = tempHome();
      const config = {
        server_id: "hub",
        remotes: [
          {
            name: "far",
            host: sshd.host,
            user: sshd.user,
            port: sshd.port,
            path: served,
            identity: sshd.identity,
          },
        ],
        fetch: { known_hosts: sshd.knownHosts, connect_timeout: 5, timeout: 60 },
      };
      writeConfig(home, config);
      const paths = amsPaths(home);
      const readFar = async () => {
        const far = (await readFleet(paths, parseConfig(config, "cfg.json"))).sources.find((s) => s.name === "far")!;
        return [far.samples, far.error];
      };

      fs.writeFileSync(served, formatJsonArray(cpuSamples("far", BIG)));
      const pulled = await cli("ams-fetch-remote", home);
      expect([pulled.exitCode, pulled.stderr]).toEqual([0, ""]);
      expect(await readFar()).toEqual([BIG, undefined]);

      // A copy the readers would have to drop is refused: the last good copy stays.
      fs.writeFileSync(served, `[\n${"[".repeat(500_000)}${"]".repeat(500_000)}\n]\n`);
      const refused = await cli("ams-fetch-remote", home);
      expect(refused.exitCode).toBe(1);
      expect(refused.stderr).toContain("nests more than 100 levels deep");
      expect(await readFar()).toEqual([BIG, undefined]);
    } finally {
      await sshd.stop();
    }
  }, 180_000);
});

describe("a source that cannot be read", () => {
  test("fails ams-alert and ams-graphs loudly, keeps its alerts and pages, and /metrics says so", async () => {
    const home = tempHome();
    const config = { server_id: "web-1", remotes: [{ name: "db-1", host: "db-1.example.org", user: "ams" }] };
    writeConfig(home, config);
    const paths = amsPaths(home);
    const copy = path.join(paths.remoteDir, "db-1_logs.json");
    fs.mkdirSync(paths.remoteDir, { recursive: true });
    fs.writeFileSync(paths.store, formatJsonArray(cpuSamples("web-1", 200).map((s) => ({ ...s, value: 10 }))));
    fs.writeFileSync(copy, formatJsonArray(cpuSamples("db-1", 200)));

    expect((await cli("ams-alert", home)).stdout).toContain("FIRED [warning] cpu_high/db-1");
    expect((await cli("ams-graphs", home)).exitCode).toBe(0);
    const page = path.join(paths.publicDir, "servers", "db-1.html");
    expect(fs.existsSync(page)).toBe(true);

    fs.writeFileSync(copy, '[{"server_id": "db-1", "metric_type"'); // cut short

    const alert = await cli("ams-alert", home);
    expect(alert.exitCode).toBe(1);
    expect(alert.stderr).toMatch(/cannot read db-1 samples, its servers are not judged this run: .*db-1_logs\.json/);
    const list = await cli("ams-alert", home, ["list"]);
    expect(list.stdout).toMatch(/^firing .* cpu_high\/db-1 /m); // not forgotten, so not mailed again later

    const graphs = await cli("ams-graphs", home);
    expect(graphs.exitCode).toBe(1);
    expect(graphs.stderr).toContain("cannot read db-1");
    expect(fs.existsSync(page)).toBe(true); // the last good page stays
    expect(fs.readFileSync(path.join(paths.publicDir, "index.html"), "utf8")).toContain("Source unreadable: db-1");

    const metrics = await metricsOf(home, config);
    expect(metrics).toContain('ams_source_readable{server="db-1"} 0');
    expect(metrics).toContain('ams_source_readable{server="web-1"} 1');
  }, 120_000);
});
