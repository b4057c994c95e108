import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { parseConfig } from "../config/ams-config.js";
import { ConfigError } from "../lib/config.js";
import { amsPaths } from "../lib/paths.js";
import type { Sample } from "../storage/sample.js";
import { readSamples } from "../storage/store.js";
import { BUILTIN_METRICS } from "../alerts/metrics.js";
import { ALWAYS_MEASURED, runCli, tempHome, writeConfig } from "./helpers.js";

const NAGIOS = "/usr/lib/nagios/plugins";

/** A fresh data home with a sensors.d folder. */
function pluginHome(config: unknown = {}) {
  const home = tempHome();
  const dir = path.join(home, "sensors.d");
  fs.mkdirSync(dir, { mode: 0o755 }); // not writable by others even under umask 002, or no plugin runs
  writeConfig(home, config);
  const add = (name: string, script: string, mode = 0o755) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, `#!/bin/sh\n${script}\n`);
    fs.chmodSync(file, mode);
    return file;
  };
  return { home, dir, add };
}

const stored = async (home: string): Promise<Sample[]> => (await readSamples(amsPaths(home).store, "test")).samples;
const ofPlugin = (samples: Sample[], plugin: string) => samples.filter((s) => s.metric_type === plugin);
const statusOf = (samples: Sample[], plugin: string) => samples.find((s) => s.metric_type === `${plugin}_status`);

/** False for a process that is gone or a zombie (killed, not yet reaped by init). */
function isRunning(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/**
 * Shell words that start `sleep 600` after writing its pid as the machine sees it: a plugin may run
 * in a PID namespace of its own (as root), where `$!` is a pid of that namespace only.
 */
const sleepWritingPid = (file: string) =>
  `sh -c 'read pid rest < /proc/self/stat; echo $pid > "${file}"; exec sleep 600'`;

/** A wrapper that runs a real plugin and keeps a copy of exactly what it printed, next to the folder. */
const teeWrapper = (home: string, command: string) =>
  `out=$(${command}); rc=$?\nprintf '%s\\n' "$out" | tee "${home}/$(basename "$0").out"\nexit $rc`;

interface PerfItem {
  label: string;
  value: number;
  unit: string;
  fields: string[];
}

/** The perfdata of Nagios output read with one plain regex, independently of sensors/plugin-output.ts. */
function perfItems(output: string): PerfItem[] {
  const perf = output.slice(output.indexOf("|") + 1);
  return [...perf.matchAll(/([^\s=']+)=([-\d.]+)([A-Za-z%]*)((?:;[^;\s]*)*)/g)].map((m) => ({
    label: m[1]!,
    value: Number(m[2]),
    unit: m[3]!,
    fields: m[4]!.split(";").slice(1),
  }));
}

/** The stored sample's thresholds in the plugin's field order, for comparison with perfItems. */
const limits = (s: Sample | undefined) => ["warn", "crit", "min", "max"].map((k) => s?.details?.[k]);
const asLimits = (fields: string[]) => [0, 1, 2, 3].map((i) => (fields[i] ? Number(fields[i]) : undefined));

describe("real Nagios plugins from monitoring-plugins-basic", () => {
  test("check_load, check_disk and check_users through wrappers: the stored records are the plugins' own perfdata", async () => {
    const { home, add } = pluginHome();
    add("nagios_load", teeWrapper(home, `${NAGIOS}/check_load -w 500,400,300 -c 1000,800,600`));
    add("root_disk", teeWrapper(home, `${NAGIOS}/check_disk -w 10% -c 5% -p /`));
    add("logins", teeWrapper(home, `${NAGIOS}/check_users -w 5 -c 10`));

    const run = await runCli("ams-sensor", ["--home", home, "plugins"]);
    expect(run.stderr).toBe("");
    expect(run.exitCode).toBe(0);
    const samples = await stored(home);

    for (const [plugin, labels] of [
      ["nagios_load", ["load1", "load5", "load15"]],
      ["root_disk", ["/"]],
      ["logins", ["users"]],
    ] as const) {
      const printed = fs.readFileSync(path.join(home, `${plugin}.out`), "utf8");
      const items = perfItems(printed);
      expect(items.map((i) => i.label)).toEqual(labels);
      const records = ofPlugin(samples, plugin);
      expect(records).toHaveLength(items.length);
      for (const item of items) {
        const record = records.find((r) => r.labels?.label === item.label);
        expect(record).toMatchObject({
          value: item.value,
          unit: item.unit,
          details: { text: printed.split("|")[0]!.trim() },
        });
        expect(limits(record)).toEqual(asLimits(item.fields));
      }
      // The thresholds above are far from this machine's figures.
      expect(statusOf(samples, plugin)).toMatchObject({
        value: 0,
        unit: "state",
        details: { status: "OK", exit_code: 0 },
      });
    }
    expect(ofPlugin(samples, "root_disk")[0]?.unit).toBe("B");
  });

  test("a symlink to check_procs: same labels, unit and limits as a run of our own, a close count", async () => {
    const { home, dir } = pluginHome();
    fs.symlinkSync(`${NAGIOS}/check_procs`, path.join(dir, "procs"));
    const ours = await execa(`${NAGIOS}/check_procs`, [], { reject: false });
    const run = await runCli("ams-sensor", ["--home", home, "procs"]);
    expect(run.exitCode).toBe(0);
    const samples = await stored(home);
    const [item] = perfItems(ours.stdout);
    const [record] = ofPlugin(samples, "procs");
    expect(record).toMatchObject({ unit: item!.unit, labels: { label: item!.label } });
    expect(limits(record)).toEqual(asLimits(item!.fields));
    // Other processes come and go between the two runs (other tests run on this machine too).
    expect(Math.abs(record!.value - item!.value)).toBeLessThan(Math.max(20, item!.value / 2));
    expect(statusOf(samples, "procs")?.value).toBe(ours.exitCode);
  });
});

describe("fixture plugins", () => {
  test("quoted labels, units and exit code 2: one record per item plus a CRITICAL status", async () => {
    const { home, add } = pluginHome();
    add(
      "pools",
      `echo "POOLS CRITICAL - pool one degraded | 'pool one'=85.5%;80;90;0;100 'it''s latency'=12ms;;;0 ops=17c"
echo "disk 3 missing | 'rx bytes'=1024KB"
exit 2`,
    );
    const run = await runCli("ams-sensor", ["--home", home, "--json", "pools"]);
    expect(run.exitCode).toBe(0);
    const samples = await stored(home);
    expect(JSON.parse(run.stdout)).toEqual(samples);
    expect(ofPlugin(samples, "pools").map((s) => [s.labels?.label, s.value, s.unit])).toEqual([
      ["pool one", 85.5, "%"],
      ["it's latency", 12, "ms"],
      ["ops", 17, "c"],
      ["rx bytes", 1024, "KB"],
    ]);
    expect(statusOf(samples, "pools")).toMatchObject({
      value: 2,
      details: { status: "CRITICAL", text: "POOLS CRITICAL - pool one degraded", long_text: "disk 3 missing" },
    });
    expect(samples.every((s) => s.server_id === samples[0]?.server_id && s.timestamp === samples[0]?.timestamp)).toBe(
      true,
    );
  });

  test("plain lines and a clean environment: nothing of ours reaches the plugin", async () => {
    const { home, add } = pluginHome();
    add("room", `env > "${home}/env.txt"\necho "temperature 41.5 C"\necho "fans 3"`);
    const run = await runCli("ams-sensor", ["--home", home, "room"], { env: { AMS_TEST_SECRET: "hunter2" } });
    expect(run.exitCode).toBe(0);
    const samples = await stored(home);
    expect(ofPlugin(samples, "room").map((s) => [s.labels?.label, s.value, s.unit])).toEqual([
      ["temperature", 41.5, "C"],
      ["fans", 3, ""],
    ]);
    const env = fs.readFileSync(path.join(home, "env.txt"), "utf8");
    expect(env).not.toContain("hunter2");
    expect(env).toContain("PATH=/usr/sbin:/usr/bin:/sbin:/bin\n");
    expect(env).toContain("LANG=C\n");
  });

  test("garbage output: an UNKNOWN status record with the reason, reported in the log", async () => {
    const { home, add } = pluginHome();
    add("noise", "head -c 300 /bin/ls");
    const run = await runCli("ams-sensor", ["--home", home, "noise"]);
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain("noise failed");
    const samples = await stored(home);
    expect(samples).toHaveLength(1);
    expect(statusOf(samples, "noise")).toMatchObject({
      value: 3,
      details: { status: "UNKNOWN", reason: "output is not text", plugin_status: "OK" },
    });
    expect(fs.readFileSync(path.join(home, "logs", "sensor.log"), "utf8")).toMatch(
      /ERROR noise failed .*output is not text/,
    );
  });

  test("a plugin that cannot start (missing interpreter) or exits 127: UNKNOWN, with the reason", async () => {
    const { home, dir, add } = pluginHome();
    fs.writeFileSync(path.join(dir, "broken"), "#!/nonexistent/interpreter\n", { mode: 0o755 });
    add("missing_tool", "no-such-command-here");
    const run = await runCli("ams-sensor", ["--home", home, "plugins"]);
    expect(run.exitCode).toBe(1);
    const samples = await stored(home);
    expect(statusOf(samples, "broken")).toMatchObject({
      value: 3,
      details: { reason: expect.stringMatching(/^could not start: .*(ENOENT|No such file or directory)/) },
    });
    expect(statusOf(samples, "missing_tool")).toMatchObject({
      value: 3,
      details: { reason: "exit code 127 is not a plugin status (0-3); no output", exit_code: 127 },
    });
    expect(run.stderr).toMatch(/missing_tool failed .*\(stderr: .*no-such-command-here: not found\)/);
  });

  test("a plugin sleeping past its timeout (ignoring SIGTERM) is killed with its children; its record is UNKNOWN", async () => {
    const { home, add } = pluginHome({ sensors: { plugins: { timeout: "1s" } } });
    add("hang", `trap '' TERM\necho "OK | a=1"\n${sleepWritingPid(`${home}/sleep.pid`)} &\nwait`);
    // Without the kill the run would last ten minutes: runCli gives up long before.
    const run = await runCli("ams-sensor", ["--home", home, "hang"], { timeout: 30_000 });
    expect(run.timedOut).toBe(false);
    expect(run.exitCode).toBe(1);
    const samples = await stored(home);
    expect(samples.map((s) => s.metric_type)).toEqual(["hang_status"]);
    expect(samples[0]).toMatchObject({
      value: 3,
      details: { status: "UNKNOWN", reason: "timed out after 1 s: killed" },
    });
    const pid = Number(fs.readFileSync(path.join(home, "sleep.pid"), "utf8"));
    expect(isRunning(pid)).toBe(false);
  });

  test("a plugin whose child left its process group but holds the output open does not hold up the run", async () => {
    const { home, add } = pluginHome({ sensors: { plugins: { timeout: "1s" } } });
    // setsid: the sleep is out of reach of the group kill, and keeps the plugin's stdout open.
    add("escape", `setsid ${sleepWritingPid(`${home}/sleep.pid`)} &\necho "OK | a=1"\nsleep 10`);
    try {
      const run = await runCli("ams-sensor", ["--home", home, "escape"], { timeout: 20_000 });
      expect(run.timedOut).toBe(false);
      expect(run.exitCode).toBe(1);
      expect(statusOf(await stored(home), "escape")).toMatchObject({
        value: 3,
        details: { reason: "timed out after 1 s: killed" },
      });
      const pid = Number(fs.readFileSync(path.join(home, "sleep.pid"), "utf8"));
      if (process.getuid?.() === 0) expect(isRunning(pid)).toBe(false); // its own PID namespace died with it
    } finally {
      const pid = Number(fs.readFileSync(path.join(home, "sleep.pid"), "utf8"));
      if (isRunning(pid)) process.kill(pid, "SIGKILL");
    }
  });

  test("output over max_output_bytes is cut: the plugin is stopped, complete lines kept, status UNKNOWN", async () => {
    const { home, add } = pluginHome({ sensors: { plugins: { max_output_bytes: 1024 } } });
    add("chatty", `echo "OK | a=1"\nyes "long text line"`);
    const run = await runCli("ams-sensor", ["--home", home, "chatty"], { timeout: 30_000 });
    expect(run.exitCode).toBe(1);
    const samples = await stored(home);
    expect(ofPlugin(samples, "chatty").map((s) => s.value)).toEqual([1]);
    expect(statusOf(samples, "chatty")?.details).toMatchObject({
      status: "UNKNOWN",
      reason: "printed more than 1024 bytes: cut and stopped",
    });
  });

  test("a plugins folder others may write to runs nothing: they could link any root-owned program there", async () => {
    const { home, add, dir } = pluginHome();
    add("good", "echo 'OK | x=1'");
    fs.chmodSync(dir, 0o777);
    const run = await runCli("ams-sensor", ["--home", home, "plugins"]);
    expect(run.stderr).toContain(`plugins folder ${dir} skipped: it is writable by group or others`);
    expect(fs.existsSync(amsPaths(home).store)).toBe(false);
    fs.chmodSync(dir, 0o755);
    expect((await runCli("ams-sensor", ["--home", home, "plugins"])).exitCode).toBe(0);
    expect((await stored(home)).map((s) => s.metric_type)).toEqual(["good", "good_status"]);
  });

  test("unsafe or clashing files are skipped with a warning; unknown names list the plugins found", async () => {
    const { home, add, dir } = pluginHome();
    add("good", "echo 'OK | x=1'");
    add("open", "echo 'OK | x=1'", 0o777);
    add("group_writable", "echo 'OK | x=1'", 0o775);
    add("plain_file", "echo 'OK | x=1'", 0o644);
    add("Disk", "echo 'OK | x=1'");
    add("good_status", "echo 'OK | x=1'");
    fs.chownSync(add("foreign", "echo 'OK | x=1'"), 65534, 65534);
    fs.symlinkSync(path.join(dir, "open"), path.join(dir, "link_to_open"));
    add(".hidden", "echo 'OK | x=1'");

    const run = await runCli("ams-sensor", ["--home", home, "plugins"]);
    expect(run.exitCode).toBe(0);
    expect((await stored(home)).map((s) => s.metric_type)).toEqual(["good", "good_status"]);
    for (const [file, why] of [
      ["open", "writable by group or others"],
      ["group_writable", "writable by group or others"],
      ["link_to_open", "writable by group or others"],
      ["plain_file", "not executable"],
      ["Disk", "the name of a built-in sensor"],
      ["good_status", "status of plugin good"],
      ["foreign", "belongs to another user"],
    ]) {
      expect(run.stderr).toMatch(new RegExp(`plugin ${path.join(dir, file!)} skipped: .*${why}`));
    }
    expect(run.stderr).not.toContain(".hidden");

    const unknown = await runCli("ams-sensor", ["--home", home, "nope"]);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain(
      'unknown sensor "nope"; valid: cpu, load, ram, disk, inodes, diskio, net, temperature, uptime, processes, users, cert, good, all, plugins',
    );
  });

  test("`all` stores the built-in samples while a plugin misbehaves", async () => {
    // The CERT feed points at a closed local port so that the run never leaves this machine.
    const { home, add } = pluginHome({ sensors: { cert: { feeds: ["http://127.0.0.1:9/feed"], timeout: "2s" } } });
    add("noise", "head -c 300 /bin/ls");
    add("room", 'echo "fans 3"');
    const run = await runCli("ams-sensor", ["--home", home, "all"]);
    expect(run.exitCode).toBe(1);
    const types = new Set((await stored(home)).map((s) => s.metric_type));
    expect([...types]).toEqual(expect.arrayContaining([...ALWAYS_MEASURED, "noise_status", "room", "room_status"]));
    expect([...types].filter((t) => !BUILTIN_METRICS.includes(t)).sort()).toEqual([
      "noise_status",
      "room",
      "room_status",
    ]);
  });

  test("a plugins folder set in the config; a missing folder means no plugins", async () => {
    const { home } = pluginHome({ sensors: { plugins: { dir: "elsewhere" } } });
    const none = await runCli("ams-sensor", ["--home", home, "plugins"]);
    expect(none.exitCode).toBe(0);
    expect(fs.existsSync(amsPaths(home).store)).toBe(false);
    fs.mkdirSync(path.join(home, "elsewhere"), { mode: 0o755 });
    fs.writeFileSync(path.join(home, "elsewhere", "there"), "#!/bin/sh\necho 'OK | x=5'\n", { mode: 0o755 });
    const run = await runCli("ams-sensor", ["--home", home, "there"]);
    expect(run.exitCode).toBe(0);
    expect(ofPlugin(await stored(home), "there").map((s) => s.value)).toEqual([5]);
  });
});

describe("plugin records flow through the rest of AMS unchanged", () => {
  test("a page shows a chart of a plugin metric that no code names, and an alert rule can watch it", async () => {
    const { home, add } = pluginHome({
      server_id: "web-1",
      alerts: { rules: { queue_long: { metric: "mailq_depth", threshold: 100 } } },
    });
    add("mailq_depth", "echo 'MAILQ WARNING - 250 messages | queued=250;100;500;0'\nexit 1");
    expect((await runCli("ams-sensor", ["plugins", "--home", home])).exitCode).toBe(0);
    const check = await runCli("ams-alert", ["check", "--home", home]);
    expect(check.stdout).toContain("FIRED [warning] queue_long/web-1");
    expect((await runCli("ams-graphs", ["--home", home])).exitCode).toBe(0);
    const page = fs.readFileSync(path.join(home, "public", "servers", "web-1.html"), "utf8");
    const chart = /<figure class="chart-figure" id="mailq_depth[^"]*">[\s\S]*?<\/figure>/.exec(page)?.[0];
    expect(chart).toBeDefined();
    expect(chart).toContain("mailq_depth");
    // Its one sample is a marker with its value, under the rule's threshold line.
    expect(chart).toMatch(/<circle class="data-point c0"/);
    expect(chart).toMatch(/<text class="point-value"[^>]*>250<\/text>/);
    expect(chart).toContain("queue_long &gt; 100");
  });
});

test("an alert rule may not watch a plugin that ams-sensor would refuse to run", async () => {
  const { home, add } = pluginHome({ alerts: { rules: { unsafe: { metric: "loose", threshold: 1 } } } });
  add("loose", "echo 'x 1'", 0o777);
  const check = await runCli("ams-alert", ["check", "--home", home]);
  expect(check.exitCode).toBe(1);
  expect(check.stderr).toContain('alerts.rules.unsafe.metric: unknown metric "loose"');
});

describe("plugin settings", () => {
  test("defaults, and bad values named", () => {
    expect(parseConfig({}, "c.json").sensors.plugins).toEqual({
      dir: "sensors.d",
      timeout: 10,
      concurrency: 4,
      max_output_bytes: 65536,
    });
    expect(() => parseConfig({ sensors: { plugins: { concurrency: 0 } } }, "c.json")).toThrow(ConfigError);
    expect(() => parseConfig({ sensors: { plugins: { timeout: "0s" } } }, "c.json")).toThrow(
      "sensors.plugins.timeout: expected more than 0s and at most 1h",
    );
    expect(() => parseConfig({ sensors: { plugins: { timout: 3 } } }, "c.json")).toThrow(
      "sensors.plugins.timout: unknown key",
    );
  });
});
