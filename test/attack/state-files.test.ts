// One corrupt state file must not stop a subsystem for good: it is moved aside, reported once
// (exit 1 for that run) and rebuilt; lost alert state is rebuilt from the alert history so that
// nothing already mailed is mailed again.
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { parseConfig } from "../../config/ams-config.js";
import { amsPaths } from "../../lib/paths.js";
import { isoLocal } from "../../lib/time.js";
import type { Sample } from "../../storage/sample.js";
import { appendSamples } from "../../storage/store.js";
import { alertRunStateProblem } from "../../storage/alert-state.js";
import { amsRoutes } from "../../web/routes.js";
import { runCli, tempHome, writeConfig } from "../helpers.js";

const T0 = new Date("2026-11-25T12:00:00Z").getTime();
const MIN = 60_000;
const at = (minute: number) => new Date(T0 + minute * MIN);
const cpu = (minute: number, value: number): Sample => ({
  server_id: "web-1",
  metric_type: "CPU",
  timestamp: isoLocal(at(minute)),
  value,
  unit: "%",
});

const alert = (home: string, minute: number, args: string[] = []) =>
  runCli("ams-alert", ["--home", home, ...args], { env: { AMS_NOW: at(minute).toISOString() } });

const stateFile = (home: string, name: string) => path.join(amsPaths(home).stateDir, `${name}.json`);
const setAside = (home: string, name: string) =>
  fs.readdirSync(amsPaths(home).stateDir).filter((f) => f.startsWith(`${name}.json.corrupt-`));
const outbox = (home: string) =>
  fs.existsSync(amsPaths(home).outbox) ? fs.readdirSync(amsPaths(home).outbox).filter((f) => f.endsWith(".eml")) : [];

/** A home where cpu_high fired at minute 10 (one mail in the outbox). */
async function firingHome(): Promise<string> {
  const home = tempHome();
  writeConfig(home, { server_id: "web-1" });
  await appendSamples(
    amsPaths(home).store,
    [0, 5, 10].map((m) => cpu(m, 97)),
  );
  const run = await alert(home, 10);
  expect(run.stdout).toContain("FIRED [warning] cpu_high/web-1");
  expect(outbox(home)).toHaveLength(1);
  return home;
}

async function metricsStatus(home: string): Promise<number> {
  const paths = amsPaths(home);
  const route = amsRoutes(paths, parseConfig({ server_id: "web-1" }, "cfg.json")).find((r) => r.path === "/metrics")!;
  const server = http.createServer((req, res) => void route.handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    return (await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`)).status;
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

describe("corrupt state files", () => {
  test("a truncated alerts.json: set aside once, rebuilt from the history, nothing mailed twice", async () => {
    const home = await firingHome();
    const file = stateFile(home, "alerts");
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").slice(0, 40));
    expect(await metricsStatus(home)).toBe(200);

    await appendSamples(amsPaths(home).store, [cpu(15, 97)]);
    const first = await alert(home, 15);
    expect(first.exitCode).toBe(1);
    expect(first.stderr).toMatch(
      /alerts\.json: not valid JSON .*; moved aside to \S+alerts\.json\.corrupt-\S+ and started afresh/,
    );
    expect(first.stdout).not.toContain("FIRED"); // already mailed at minute 10: not again
    expect(setAside(home, "alerts")).toHaveLength(1);

    await appendSamples(amsPaths(home).store, [cpu(20, 97)]);
    const second = await alert(home, 20);
    expect([second.exitCode, second.stderr, second.stdout]).toEqual([0, "", ""]);
    expect(outbox(home)).toHaveLength(1);

    await appendSamples(amsPaths(home).store, [cpu(25, 10)]);
    const resolved = await alert(home, 25);
    expect(resolved.exitCode).toBe(0);
    expect(resolved.stdout).toContain("RESOLVED [warning] cpu_high/web-1");
    expect(outbox(home)).toHaveLength(2);
  });

  test('alerts.json with {"alerts":{"a":null}}: list, cleanup and /metrics still work; the next check repairs it', async () => {
    const home = await firingHome();
    fs.writeFileSync(stateFile(home, "alerts"), '{"alerts":{"a":null}}');
    const list = await alert(home, 11, ["list"]);
    expect([list.exitCode, list.stderr]).toEqual([0, ""]);
    expect(list.stdout).toMatch(/^firing .* cpu_high\/web-1 /m);
    const cleanup = await runCli("ams-cleanup", ["--home", home, "alerts"]);
    expect([cleanup.exitCode, cleanup.stderr]).toEqual([0, ""]);
    expect(await metricsStatus(home)).toBe(200);

    const check = await alert(home, 12);
    expect(check.exitCode).toBe(1);
    expect(check.stderr).toContain("alerts.a: ");
    expect((await alert(home, 13)).exitCode).toBe(0);
    expect(outbox(home)).toHaveLength(1);
  });

  test("a truncated remote-pulls.json fails one ams-graphs run, then it is rebuilt", async () => {
    const home = tempHome();
    writeConfig(home, { server_id: "web-1" });
    fs.mkdirSync(amsPaths(home).stateDir, { recursive: true });
    fs.writeFileSync(stateFile(home, "remote-pulls"), '{"db-1": {"last_attempt": "2026-11');
    const first = await runCli("ams-graphs", ["--home", home]);
    expect(first.exitCode).toBe(1);
    expect(first.stderr).toContain("remote-pulls.json: not valid JSON");
    expect(setAside(home, "remote-pulls")).toHaveLength(1);
    expect((await runCli("ams-graphs", ["--home", home])).exitCode).toBe(0);
  });

  test.each([
    ["processes", "{}", "processes.json: at: expected a number"],
    ["cpu", () => `{"btime": ${btime()}, "at": 1, "counters": null}`, "cpu.json: counters: expected"],
  ])("a bad %s.json fails one sensor run, without a TypeError, then it is rebuilt", async (name, content, error) => {
    const home = tempHome();
    writeConfig(home, { server_id: "web-1" });
    fs.mkdirSync(amsPaths(home).stateDir, { recursive: true });
    fs.writeFileSync(stateFile(home, name), typeof content === "string" ? content : content());
    const first = await runCli("ams-sensor", [name, "--home", home]);
    expect(first.exitCode).toBe(1);
    expect(first.stderr).toContain(error);
    expect(first.stderr).not.toMatch(/TypeError|Cannot read properties/);
    expect(first.stdout).not.toBe(""); // still measured and stored
    expect(setAside(home, name)).toHaveLength(1);
    const second = await runCli("ams-sensor", [name, "--home", home]);
    expect([second.exitCode, second.stderr]).toEqual([0, ""]);
  });
});

const btime = () => Number(/^btime (\d+)/m.exec(fs.readFileSync("/proc/stat", "utf8"))![1]);

describe("the alert state's check", () => {
  test("takes what ams-alert writes (silences, acks, per-channel queues) and names a bad field in any of them", async () => {
    const home = await firingHome();
    const silence = await alert(home, 11, `silence add --match server=db-1 --for 1h --comment x`.split(" "));
    expect(silence.exitCode).toBe(0);
    expect((await alert(home, 11, ["ack", "cpu_high/web-1", "--comment", "on it"])).exitCode).toBe(0);
    const saved = JSON.parse(fs.readFileSync(stateFile(home, "alerts"), "utf8"));
    expect(saved.alerts["cpu_high/web-1"].acked.comment).toBe("on it");
    expect(setAside(home, "alerts")).toEqual([]);
    expect(alertRunStateProblem(saved)).toBeUndefined();

    const queued = { id: "q1", created_at: isoLocal(at(11)), notices: [], attempts: 0 };
    expect(alertRunStateProblem({ ...saved, queue: { hook: [queued] } })).toBeUndefined();
    expect(alertRunStateProblem({ ...saved, queue: { hook: [{ ...queued, notices: [{ key: "k" }] }] } })).toMatch(
      /^queue/,
    );
    const badSilence = { ...saved.silences[0], matchers: [{ name: "server", op: "~", value: "db-1" }] };
    expect(alertRunStateProblem({ ...saved, silences: [badSilence] })).toMatch(/^silences\.0\.matchers\.0\.op: /);
    const badAck = { ...saved.alerts["cpu_high/web-1"], acked: { at: "yesterday", by: "me" } };
    expect(alertRunStateProblem({ ...saved, alerts: { "cpu_high/web-1": badAck } })).toMatch(
      /^alerts\.cpu_high\/web-1\.acked\.at: /,
    );
  });
});
