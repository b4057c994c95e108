import fs from "node:fs";
import path from "node:path";
import { configuredChannels } from "../../alerts/channels/registry.js";
import { parseConfig } from "../../config/ams-config.js";
import { ConfigError } from "../../lib/config.js";
import { amsPaths } from "../../lib/paths.js";
import { readSamples } from "../../storage/store.js";
import { runCli, tempHome, writeConfig } from "../helpers.js";

// Node's timers wait at most 2^31-1 ms (24.86 days): a longer delay fires after 1 ms. A duration
// key past what it can mean must be refused with the key named, never armed as an instant timer.

describe("durations past what their key can mean are refused, naming the key", () => {
  test.each([
    [{ sensors: { plugins: { timeout: "25d" } } }, "sensors.plugins.timeout: expected more than 0s and at most 1h"],
    [{ sensors: { cert: { timeout: "30d" } } }, "sensors.cert.timeout: expected more than 0s and at most 10m"],
    [{ sensors: { disk: { timeout: 2_200_000 } } }, "sensors.disk.timeout: expected more than 0s and at most 10m"],
    [{ email: { timeout: "30d" } }, "email.timeout: expected more than 0s and at most 10m"],
    [{ fetch: { timeout: "25d" } }, "fetch.timeout: expected more than 0s and at most 1h"],
    [{ fetch: { connect_timeout: "1d" } }, "fetch.connect_timeout: expected more than 0s and at most 10m"],
    [{ alerts: { repeat: "60d" } }, "alerts.repeat: expected at least 0s and at most 30d"],
    [{ alerts: { silent_after: "31d" } }, "alerts.silent_after: expected at least 0s and at most 30d"],
    [{ graphs: { refresh: "25d" } }, "graphs.refresh: expected at least 10s and at most 1d"],
    [{ graphs: { refresh: 0 } }, "graphs.refresh: expected at least 10s and at most 1d"],
    [{ email: { timeout: 0 } }, "email.timeout: expected more than 0s and at most 10m"],
    [{ deadlines: { backup: "25d" } }, "deadlines.backup: expected more than 0s and at most 1d"],
    [{ deadlines: { sensor: 0 } }, "deadlines.sensor: expected more than 0s and at most 1d"],
    [
      { alerts: { rules: { cpu: { metric: "CPU", threshold: 90, for: "100d" } } } },
      "alerts.rules.cpu.for: expected at least 0s and at most 30d",
    ],
    [
      { alerts: { routes: [{ match: {}, channels: ["email"], repeat: "60d" }] } },
      "alerts.routes.0.repeat: expected at least 0s and at most 30d",
    ],
    [
      { alerts: { maintenance: [{ name: "m", match: {}, schedule: { cron: "0 3 * * 0", duration: "31d" } }] } },
      "alerts.maintenance.0.schedule.duration: expected more than 0s and at most 30d",
    ],
  ])("%j", (raw, message) => {
    expect(() => parseConfig(raw, "cfg.json")).toThrow(ConfigError);
    expect(() => parseConfig(raw, "cfg.json")).toThrow(`cfg.json: ${message}, got`);
  });

  test.each([
    [{ type: "webhook", url: "http://127.0.0.1:9/", timeout: "25d" }, "timeout: expected more than 0s and at most 10m"],
    [
      { type: "telegram", chat_id: 1, bot_token_env: "T", timeout: "1h" },
      "timeout: expected more than 0s and at most 10m",
    ],
    [
      { type: "alertmanager", url: "http://127.0.0.1:9/", ends_after: "30d" },
      "ends_after: expected more than 0s and at most 7d",
    ],
    [
      { type: "alertmanager", url: "http://127.0.0.1:9/", ends_after: 0 },
      "ends_after: expected more than 0s and at most 7d",
    ],
  ])("channel %j", (entry, message) => {
    const { alerts } = parseConfig({ alerts: { channels: { c: entry } } }, "cfg.json");
    expect(() => configuredChannels(alerts, "cfg.json")).toThrow(`cfg.json: alerts.channels.c.${message}, got`);
  });

  test("the largest value of each key is still accepted", () => {
    const config = parseConfig(
      {
        sensors: { plugins: { timeout: "1h" } },
        email: { timeout: "10m" },
        alerts: { repeat: "30d" },
        deadlines: { backup: "1d" },
      },
      "cfg.json",
    );
    expect(config.sensors.plugins.timeout).toBe(3600);
    expect(config.email.timeout).toBe(600);
    expect(config.alerts.repeat).toBe(30 * 86400);
    expect(config.deadlines.backup).toBe(86400);
  });

  test('ams-sensor with sensors.plugins.timeout "25d" stops on the config, before any plugin is killed at once', async () => {
    const home = tempHome();
    const dir = path.join(home, "sensors.d");
    fs.mkdirSync(dir, { mode: 0o755 });
    fs.writeFileSync(path.join(dir, "slowish"), "#!/bin/sh\nsleep 0.3\necho value 1\n", { mode: 0o755 });
    writeConfig(home, { server_id: "web-1", sensors: { plugins: { timeout: "25d" } } });

    const run = await runCli("ams-sensor", ["--home", home, "plugins"]);
    expect(run.exitCode).not.toBe(0);
    expect(run.stderr).toContain("sensors.plugins.timeout: expected more than 0s and at most 1h");
    // Nothing measured with a bogus timeout: no "timed out" status record stored.
    expect((await readSamples(amsPaths(home).store, "web-1")).samples).toEqual([]);
  });
});
