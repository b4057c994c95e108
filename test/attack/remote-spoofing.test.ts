import fs from "node:fs";
import path from "node:path";
import { jest } from "@jest/globals";
import { readFiringAlerts } from "../../storage/alert-state.js";
import { amsPaths } from "../../lib/paths.js";
import { isoLocal } from "../../lib/time.js";
import { readPullStatus } from "../../storage/pull-status.js";
import type { Sample } from "../../storage/sample.js";
import { appendSamples } from "../../storage/store.js";
import { runCli, tempHome, writeConfig } from "../helpers.js";
import { startSshd, type TestSshd } from "../support/sshd.js";

// A remote's store is that remote's, whatever its records say: pulled through a real scp, a remote
// whose records name "hub" can neither fire the hub's alerts nor draw on the hub's page.
jest.setTimeout(90_000);

const T0 = new Date("2026-11-25T12:00:00Z").getTime();
const at = (minute: number) => new Date(T0 + minute * 60_000);
const cpu = (server: string, minute: number, value: number): Sample => ({
  server_id: server,
  metric_type: "CPU",
  timestamp: isoLocal(at(minute)),
  value,
  unit: "%",
});
/** A CPU line every 2 minutes from minute 0 to 20: past cpu_high's "> 90 for 10m" when high. */
const cpuLine = (server: string, value: number) => Array.from({ length: 11 }, (_, i) => cpu(server, i * 2, value));

let sshd: TestSshd;
beforeAll(async () => {
  sshd = await startSshd();
});
afterAll(async () => {
  await sshd?.stop();
});

function serve(name: string, records: Sample[]): string {
  const file = path.join(sshd.dir, `${name}.json`);
  fs.writeFileSync(file, JSON.stringify(records));
  return file;
}

const remote = (name: string, file: string, extra: object = {}) => ({
  name,
  host: sshd.host,
  user: sshd.user,
  port: sshd.port,
  path: file,
  identity: sshd.identity,
  ...extra,
});

const homeWith = (remotes: object[]) => {
  const home = tempHome();
  writeConfig(home, {
    server_id: "hub",
    remotes,
    fetch: { known_hosts: sshd.knownHosts, connect_timeout: 2, timeout: 10 },
  });
  return home;
};
const env = { AMS_NOW: at(20).toISOString() };

test("a remote naming the hub in its records fires no hub alert and draws nothing on the hub's page", async () => {
  // web-2 is busy itself (its own alert must fire: the pipeline works) and also claims the hub is.
  const home = homeWith([remote("web-2", serve("web-2", [...cpuLine("web-2", 95.5), ...cpuLine("hub", 97.3)]))]);
  const paths = amsPaths(home);
  // The hub's own RAM line (its CPU sensor is off): the forged CPU line would be its only one.
  await appendSamples(
    paths.store,
    cpuLine("hub", 12.5).map((s) => ({ ...s, metric_type: "RAM" })),
  );

  const pull = await runCli("ams-fetch-remote", ["--home", home]);
  expect(pull.exitCode).toBe(0);
  const alert = await runCli("ams-alert", ["--home", home, "check"], { env });
  expect(alert.exitCode).toBe(0);
  expect((await readFiringAlerts(paths)).map((a) => `${a.rule} ${a.server_id}`)).toEqual(["cpu_high web-2"]);

  const graphs = await runCli("ams-graphs", ["--home", home], { env });
  expect(graphs.exitCode).toBe(0);
  const hubPage = fs.readFileSync(path.join(paths.publicDir, "servers", "hub.html"), "utf8");
  expect(hubPage).toContain("12.5 %");
  // The spoofed value as a page shows it, and no CPU chart at all.
  expect(hubPage).not.toContain("97.3 %");
  expect(hubPage).not.toContain('id="CPU"');

  // Counted and named: in the pull's output and log, its status, and the dashboard.
  expect(pull.stdout).toContain("web-2: 11 records, 11 naming other servers skipped");
  expect(pull.stderr).toContain("naming other servers skipped (hub)");
  expect((await readPullStatus(paths))["web-2"]).toMatchObject({
    records: 11,
    foreign_records: 11,
    foreign_servers: ["hub"],
  });
  const index = fs.readFileSync(path.join(paths.publicDir, "index.html"), "utf8");
  expect(index).toContain("11 records naming other servers skipped (hub)");
});

test("a remote may relay the servers its may_speak_for lists, and those only", async () => {
  const relay = serve("relay", [...cpuLine("relay", 5), ...cpuLine("web-9", 93.1), ...cpuLine("hub", 97.3)]);
  const home = homeWith([remote("relay", relay, { may_speak_for: ["web-9"] })]);
  const paths = amsPaths(home);
  await appendSamples(paths.store, cpuLine("hub", 12.5));
  const pull = await runCli("ams-fetch-remote", ["--home", home]);
  expect(pull.exitCode).toBe(0);
  expect(pull.stdout).toContain("relay: 22 records, 11 naming other servers skipped");
  expect((await runCli("ams-alert", ["--home", home, "check"], { env })).exitCode).toBe(0);
  expect((await readFiringAlerts(paths)).map((a) => `${a.rule} ${a.server_id}`)).toEqual(["cpu_high web-9"]);
});

test("a remote whose every record names other servers is refused; the last good copy stays", async () => {
  const home = homeWith([remote("impostor", serve("impostor", cpuLine("web-2", 50)))]);
  const pull = await runCli("ams-fetch-remote", ["--home", home]);
  expect(pull.exitCode).toBe(1);
  expect(pull.stdout).toContain("impostor: FAILED");
  expect(pull.stdout).toContain("every record names another server (web-2)");
  expect(fs.existsSync(path.join(amsPaths(home).remoteDir, "impostor_logs.json"))).toBe(false);
});
