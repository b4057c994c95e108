import fs from "node:fs";
import path from "node:path";
import { parseConfig } from "../config/ams-config.js";
import { ConfigError } from "../lib/config.js";
import { BUILTIN_METRICS, checkRuleMetrics, knownMetrics } from "../alerts/metrics.js";
import { installDir } from "../lib/paths.js";

describe("alerts config", () => {
  test("defaults are the README's rules", () => {
    const { alerts, email } = parseConfig({}, "c.json");
    expect(alerts.rules.cpu_high).toMatchObject({ metric: "CPU", op: ">", threshold: 90, clear: 85, for: 600 });
    expect(alerts.rules.ram_high).toMatchObject({ metric: "RAM", threshold: 90, for: 300 });
    expect(alerts.rules.disk_warning).toMatchObject({ metric: "Disk", op: ">=", threshold: 90, severity: "warning" });
    expect(alerts.rules.disk_critical).toMatchObject({ metric: "Disk", op: ">=", threshold: 98, severity: "critical" });
    expect(alerts.rules.processes_high).toMatchObject({ metric: "Processes", threshold: 500, for: 600 });
    expect(alerts).toMatchObject({
      silent_after: 1800,
      repeat: 14400,
      cert_advisories: false,
      history: { max_days: 30, max_entries: 1000 },
    });
    expect(email).toMatchObject({ host: "", port: 587, user: "", to: [] });
  });

  test.each([
    [
      { alerts: { rules: { cpu: { metric: "CPU", threshold: 90, for: "ten" } } } },
      "alerts.rules.cpu.for: expected a duration",
    ],
    [{ alerts: { rules: { cpu: { metric: "CPU", threshold: -5 } } } }, "alerts.rules.cpu.threshold: must be 0 or more"],
    [
      { alerts: { rules: { cpu: { metric: "CPU", threshold: 150 } } } },
      "alerts.rules.cpu.threshold: CPU is a percentage",
    ],
    [
      { alerts: { rules: { cpu: { metric: "CPU", threshold: 90, clear: 95 } } } },
      "alerts.rules.cpu.clear: must be at most the threshold",
    ],
    [{ alerts: { rules: { cpu: { metric: "CPU", threshold: 90, op: "=>" } } } }, "alerts.rules.cpu.op"],
    [
      { alerts: { rules: { cpu: { metric: "CPU", threshold: 90, servers: { db: { threshold: -1 } } } } } },
      "alerts.rules.cpu.servers.db.threshold",
    ],
    [
      { alerts: { rules: { server_silent: { metric: "CPU", threshold: 90 } } } },
      "alerts.rules.server_silent: reserved for a built-in rule",
    ],
    [
      { alerts: { rules: { "bad name": { metric: "CPU", threshold: 90 } } } },
      "alerts.rules.bad name: rule names are letters, digits",
    ],
    [{ alerts: { repeat: "often" } }, "alerts.repeat: expected a duration"],
    [{ alerts: { history: { max_entries: 0 } } }, "alerts.history.max_entries"],
    [{ email: { host: "smtp.example.org" } }, "email.to: at least one recipient"],
    [{ email: { user: "ams" } }, "email.user: needs password_env or password_file"],
    [{ email: { port: 70000 } }, "email.port"],
    [{ email: { password: "hunter2" } }, "email.password: unknown key"],
  ])("%j is refused, naming the key", (raw, message) => {
    expect(() => parseConfig(raw, "c.json")).toThrow(ConfigError);
    expect(() => parseConfig(raw, "c.json")).toThrow(message);
  });

  test("rule metrics: built-ins, plus each plugin and its _status", () => {
    const known = knownMetrics(["check_nginx"]);
    expect(known).toEqual([...BUILTIN_METRICS, "check_nginx", "check_nginx_status"]);
    expect(BUILTIN_METRICS).toEqual(
      expect.arrayContaining(["CPU", "RAM", "Disk", "disk_status", "Processes", "Users", "CERT", "Swap"]),
    );
    const ok = parseConfig(
      { alerts: { rules: { nginx: { metric: "check_nginx_status", op: ">=", threshold: 2 } } } },
      "c.json",
    );
    expect(() => checkRuleMetrics(ok.alerts, known, "c.json")).not.toThrow();
    const bad = parseConfig({ alerts: { rules: { typo: { metric: "CPUU", threshold: 2 } } } }, "c.json");
    expect(() => checkRuleMetrics(bad.alerts, known, "c.json")).toThrow(
      'c.json: alerts.rules.typo.metric: unknown metric "CPUU"',
    );
    expect(knownMetrics([])).toHaveLength(BUILTIN_METRICS.length);
  });
});

test("ams.config.example.json's alerts and email sections are valid and are the defaults", () => {
  const example = JSON.parse(fs.readFileSync(path.join(installDir, "ams.config.example.json"), "utf8"));
  const parsed = parseConfig({ alerts: example.alerts, email: example.email }, "ams.config.example.json");
  const defaults = parseConfig({}, "defaults");
  expect(parsed.alerts).toEqual(defaults.alerts);
  expect(parsed.email).toEqual(defaults.email);
});
