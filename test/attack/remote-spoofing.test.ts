import fs from "node:fs";
import path from "node:path";
import { jest } from "@jest/globals";
import { firingAlerts } from "../../alerts/check.js";
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

test("a remote naming the hub in its records fires no hub alert and draws nothing on the hub's page", async () => {
  // web-2 is busy itself (its own alert must fire: the pipeline works) and also claims the hub is.
  const web2 = serve("web-2", [...cpuLine("web-2", 95.5), ...cpuLine("hub", 97.3)]);
  // relay may speak for web-9 (a server behind it), not for the hub.
  const relay = serve("relay", [...cpuLine("relay", 5), ...cpuLine("web-9", 93.1), ...cpuLine("hub", 97.3)]);
  const home = tempHome();
  writeConfig(home, {
    server_id: "hub",
    remotes: [remote("web-2", web2), remote("relay", relay, { may_speak_for: ["web-9"] })],
    fetch: { known_hosts: sshd.knownHosts, connect_timeout: 2, timeout: 10 },
  });
  const paths = amsPaths(home);
  await appendSamples(paths.store, cpuLine("hub", 12.5));
  const env = { AMS_NOW: at(20).toISOString() };

  const pull = await runCli("ams-fetch-remote", ["--home", home]);
  expect(pull.exitCode).toBe(0);
  expect(pull.stdout).toContain("web-2: 11 records, 11 naming other servers skipped");
  expect(pull.stdout).toContain("relay: 22 records, 11 naming other servers skipped");
  expect(pull.stderr).toContain("naming other servers skipped (hub)");
  const status = await readPullStatus(paths);
  expect(status["web-2"]).toMatchObject({ records: 11, foreign_records: 11, foreign_servers: ["hub"] });
  expect(status.relay).toMatchObject({ records: 22, foreign_records: 11, foreign_servers: ["hub"] });

  const alert = await runCli("ams-alert", ["--home", home, "check"], { env });
  expect(alert.exitCode).toBe(0);
  const firing = (await firingAlerts(paths.stateDir)).map((a) => `${a.rule} ${a.server_id}`).sort();
  expect(firing).toEqual(["cpu_high web-2", "cpu_high web-9"]);

  const graphs = await runCli("ams-graphs", ["--home", home], { env });
  expect(graphs.exitCode).toBe(0);
  const hubPage = fs.readFileSync(path.join(paths.publicDir, "servers", "hub.html"), "utf8");
  expect(hubPage).toContain("12.5 %");
  expect(hubPage).not.toContain("97.3");
  const index = fs.readFileSync(path.join(paths.publicDir, "index.html"), "utf8");
  expect(index).toContain("11 records naming other servers skipped (hub)");
});

test("a remote whose every record names other servers is refused; the last good copy stays", async () => {
  const file = serve("impostor", cpuLine("web-2", 50));
  const home = tempHome();
  writeConfig(home, {
    server_id: "hub",
    remotes: [remote("impostor", file)],
    fetch: { known_hosts: sshd.knownHosts, connect_timeout: 2, timeout: 10 },
  });
  const pull = await runCli("ams-fetch-remote", ["--home", home]);
  expect(pull.exitCode).toBe(1);
  expect(pull.stdout).toContain("impostor: FAILED");
  expect(pull.stdout).toContain("every record names another server (web-2)");
  expect(fs.existsSync(path.join(amsPaths(home).remoteDir, "impostor_logs.json"))).toBe(false);
});
