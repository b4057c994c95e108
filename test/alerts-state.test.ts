import { parseConfig } from "../config/ams-config.js";
import { isoLocal } from "../lib/time.js";
import type { Sample } from "../storage/sample.js";
import { evaluateRules, ruleStillApplies } from "../alerts/rules.js";
import { advanceAlerts, type AlertStates, type Notice } from "../alerts/state.js";

const T0 = new Date("2026-11-25T12:00:00Z").getTime();
const MIN = 60_000;
const config = parseConfig({ server_id: "web-1" }, "test");
const alerts = config.alerts;
const options = (cfg: typeof alerts) => ({
  repeatSeconds: () => cfg.repeat,
  maxGapSeconds: cfg.silent_after,
  stillApplies: (a: Parameters<typeof ruleStillApplies>[1]) => ruleStillApplies(cfg, a),
});

function sample(
  minute: number,
  value: number,
  metric = "CPU",
  server = "web-1",
  labels?: Record<string, string>,
): Sample {
  return {
    server_id: server,
    metric_type: metric,
    timestamp: isoLocal(new Date(T0 + minute * MIN)),
    value,
    unit: "%",
    ...(labels ? { labels } : {}),
  };
}

/** Replays cron runs: each run sees the samples up to its minute. */
function runs(samples: Sample[], minutes: number[], start: AlertStates = {}, cfg = alerts) {
  let state = start;
  const log: { minute: number; events: Notice[] }[] = [];
  for (const minute of minutes) {
    const now = new Date(T0 + minute * MIN);
    const visible = samples.filter((s) => Date.parse(s.timestamp) <= now.getTime());
    const conditions = evaluateRules(visible, cfg, ["web-1"], now);
    const result = advanceAlerts(state, conditions, now, options(cfg));
    state = result.alerts;
    log.push({ minute, events: result.events });
  }
  return { state, log, events: log.flatMap((l) => l.events) };
}

const every5 = (from: number, to: number) => Array.from({ length: (to - from) / 5 + 1 }, (_, i) => from + i * 5);

describe("alert state", () => {
  test("CPU above 90 fires only after 10 minutes, once, and resolves below the clear threshold", () => {
    const minutes = every5(0, 60);
    // 95 % from minute 5 to 35, 87 % (between clear and threshold) at 40, 80 % from 45.
    const samples = minutes.map((m) => sample(m, m === 0 ? 20 : m <= 35 ? 95 : m === 40 ? 87 : 80));
    const { log } = runs(samples, minutes);
    const fired = log.filter((l) => l.events.some((e) => e.event === "fired"));
    expect(fired.map((l) => l.minute)).toEqual([15]);
    expect(fired[0]!.events[0]).toMatchObject({
      key: "cpu_high/web-1",
      severity: "warning",
      since: isoLocal(new Date(T0 + 5 * MIN)),
      value: 95,
      threshold: 90,
    });
    const resolved = log.filter((l) => l.events.some((e) => e.event === "resolved"));
    // 87 is above the clear threshold of 85: still firing; 80 at minute 45 ends it.
    expect(resolved.map((l) => l.minute)).toEqual([45]);
    expect(log.flatMap((l) => l.events)).toHaveLength(2);
  });

  test("a value hovering around the threshold does not flap", () => {
    const minutes = every5(0, 120);
    const samples = minutes.map((m) => sample(m, m < 15 ? 95 : m % 10 === 0 ? 89 : 91));
    const { events } = runs(samples, minutes);
    expect(events.map((e) => e.event)).toEqual(["fired"]);
  });

  test("a short spike shorter than `for` never fires", () => {
    const minutes = every5(0, 30);
    const samples = minutes.map((m) => sample(m, m === 10 || m === 15 ? 99 : 10));
    expect(runs(samples, minutes).events).toEqual([]);
  });

  test("a crisis that started and ended between two runs is still reported", () => {
    const samples = every5(0, 60).map((m) => sample(m, m >= 10 && m <= 30 ? 97 : 10));
    const { log } = runs(samples, [0, 60]);
    expect(log[1]!.events.map((e) => e.event)).toEqual(["fired", "resolved"]);
  });

  test("reminders every `repeat` while firing; a gap in the data does not resolve", () => {
    const samples = [...every5(0, 20).map((m) => sample(m, 99)), sample(300, 99), sample(305, 10)];
    const { log } = runs(samples, [20, 60, 120, 200, 259, 260, 300, 305]);
    const byMinute = Object.fromEntries(log.map((l) => [l.minute, l.events.map((e) => e.event)]));
    expect(byMinute[20]).toContain("fired");
    expect(byMinute[60]).not.toContain("resolved");
    // Fired at minute 20 → reminded at 260 (4 h later), not before.
    expect(byMinute[259]).not.toContain("reminded");
    expect(byMinute[260]).toContain("reminded");
    expect(byMinute[300]).not.toContain("fired");
    expect(byMinute[305]).toContain("resolved");
    const cpuEvents = log
      .flatMap((l) => l.events)
      .filter((e) => e.rule === "cpu_high")
      .map((e) => e.event);
    expect(cpuEvents).toEqual(["fired", "reminded", "resolved"]);
  });

  test("a server silent for 30 minutes fires once and resolves when samples return", () => {
    const samples = [sample(0, 10), sample(50, 10)];
    const { log } = runs(samples, [5, 29, 30, 35, 45, 50]);
    const events = log.map((l) => l.events.filter((e) => e.rule === "server_silent").map((e) => e.event));
    expect(events).toEqual([[], [], ["fired"], [], [], ["resolved"]]);
    const fired = log[2]!.events[0]!;
    expect(fired).toMatchObject({
      key: "server_silent/web-1",
      severity: "critical",
      since: isoLocal(new Date(T0)),
      value: 30,
    });
  });

  test("disk: each mount is its own alert; warning and critical are separate rules", () => {
    const samples = [
      sample(0, 91, "Disk", "web-1", { mount: "/" }),
      sample(0, 99, "Disk", "web-1", { mount: "/var" }),
      sample(0, 50, "Disk", "web-1", { mount: "/home" }),
    ];
    const { events } = runs(samples, [0]);
    expect(events.map((e) => e.key).sort()).toEqual([
      'disk_critical/web-1{mount="/var"}',
      'disk_warning/web-1{mount="/"}',
      'disk_warning/web-1{mount="/var"}',
    ]);
  });

  test("a run that finds nothing new says nothing", () => {
    const samples = every5(0, 20).map((m) => sample(m, 99));
    const first = runs(samples, [20]);
    expect(first.events.map((e) => e.event)).toEqual(["fired"]);
    const again = runs(samples, [21, 22], first.state);
    expect(again.events).toEqual([]);
  });

  test("first look at an old store does not replay history: only the current condition counts", () => {
    const samples = every5(0, 120).map((m) => sample(m, m >= 10 && m <= 40 ? 99 : 10));
    expect(runs(samples, [120]).events).toEqual([]);
  });

  test("per-server overrides", () => {
    const custom = parseConfig(
      {
        alerts: {
          rules: {
            cpu: {
              metric: "CPU",
              threshold: 90,
              servers: { "db-1": { threshold: 50, severity: "critical" }, "web-1": { enabled: false } },
            },
          },
        },
      },
      "t",
    );
    const now = new Date(T0);
    const conditions = evaluateRules(
      [sample(0, 60, "CPU", "db-1"), sample(0, 99, "CPU", "web-1")],
      custom.alerts,
      [],
      now,
    );
    const { events } = advanceAlerts({}, conditions, now, options(custom.alerts));
    expect(events.map((e) => [e.key, e.severity, e.threshold])).toEqual([["cpu/db-1", "critical", 50]]);
  });

  test.each([
    ["turned off", { enabled: false }],
    ["turned off for this server", { servers: { "web-1": { enabled: false } } }],
    ["now watching another metric", { metric: "RAM" }],
  ])("a firing alert whose rule is %s is dropped, not reminded forever", (_what, change) => {
    const samples = every5(0, 20).map((m) => sample(m, 99));
    const first = runs(samples, [20]);
    expect(first.state["cpu_high/web-1"]?.status).toBe("firing");
    const changed = parseConfig(
      { server_id: "web-1", alerts: { rules: { cpu_high: { metric: "CPU", threshold: 90, for: "10m", ...change } } } },
      "t",
    ).alerts;
    // The series keeps its data but the rule no longer judges it: no state, no reminder.
    const later = runs(samples, [300], first.state, changed);
    expect(later.state["cpu_high/web-1"]).toBeUndefined();
    expect(later.events.filter((e) => e.rule === "cpu_high")).toEqual([]);
  });

  test("a firing silent alert is dropped when silent_after is set to 0", () => {
    const first = runs([sample(0, 10)], [40]);
    expect(first.state["server_silent/web-1"]?.status).toBe("firing");
    const off = parseConfig({ server_id: "web-1", alerts: { silent_after: 0 } }, "t").alerts;
    const later = runs([sample(0, 10)], [300], first.state, off);
    expect(later.state["server_silent/web-1"]).toBeUndefined();
    expect(later.events).toEqual([]);
  });

  test("a gap in the data does not count towards `for`", () => {
    // Pending from minute 0, then nothing for an hour (the server was off): the first sample back
    // restarts the 10 minutes instead of firing at once.
    const samples = [sample(0, 95), sample(5, 95), sample(65, 95), sample(70, 95), sample(75, 95)];
    const stepwise = runs(samples, [0, 5, 65, 70, 75]);
    expect(stepwise.log.map((l) => l.events.filter((e) => e.rule === "cpu_high").map((e) => e.event))).toEqual([
      [],
      [],
      [],
      [],
      ["fired"],
    ]);
    expect(stepwise.state["cpu_high/web-1"]?.since).toBe(isoLocal(new Date(T0 + 65 * MIN)));
    // The same on a first look at the store.
    expect(runs(samples, [65]).events.filter((e) => e.rule === "cpu_high")).toEqual([]);
  });
});
