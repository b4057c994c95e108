import fs from "node:fs";
import { parsePerfdata, readPluginOutput, type PluginRecord } from "../sensors/plugin-output.js";
import { fixture } from "./helpers.js";

const output = (name: string) => fs.readFileSync(fixture("plugin-output", name));
const values = (records: PluginRecord[], plugin: string) =>
  Object.fromEntries(records.filter((r) => r.metric_type === plugin).map((r) => [r.labels?.label, [r.value, r.unit]]));
const status = (records: PluginRecord[], plugin: string) => records.find((r) => r.metric_type === `${plugin}_status`);

describe("Nagios plugin output", () => {
  test("check_load (captured): one record per perfdata item with its thresholds and the text", () => {
    const { records, problem } = readPluginOutput("load", { stdout: output("check_load.txt"), exitCode: 1 });
    expect(problem).toBeUndefined();
    expect(values(records, "load")).toEqual({ load1: [5.05, ""], load5: [4.34, ""], load15: [1.99, ""] });
    expect(records[0]).toEqual({
      metric_type: "load",
      value: 5.05,
      unit: "",
      labels: { label: "load1" },
      details: { warn: 5, crit: 10, min: 0, text: "LOAD WARNING - total load average: 5.05, 4.34, 1.99" },
    });
    expect(status(records, "load")).toEqual({
      metric_type: "load_status",
      value: 1,
      unit: "state",
      details: { status: "WARNING", text: "LOAD WARNING - total load average: 5.05, 4.34, 1.99", exit_code: 1 },
    });
  });

  test("check_disk (captured): bytes with min and max, the label is the mount point", () => {
    const { records } = readPluginOutput("disk_root", { stdout: output("check_disk.txt"), exitCode: 0 });
    expect(records[0]).toMatchObject({
      value: 25371344896,
      unit: "B",
      labels: { label: "/" },
      details: { warn: 243497277849, crit: 257024904396, min: 0, max: 270552530944 },
    });
    expect(status(records, "disk_root")?.details).toMatchObject({ status: "OK" });
  });

  test.each([
    [
      "check_users.txt",
      0,
      { label: "users", value: 0, warn: 5, crit: 10, min: 0, text: "USERS OK - 0 users currently logged in" },
    ],
    [
      "check_procs.txt",
      1,
      { label: "procs", value: 84, warn: 50, crit: 500, min: 0, text: "PROCS WARNING: 84 processes" },
    ],
  ])("%s (captured)", (file, exitCode, { label, value, ...details }) => {
    const { records } = readPluginOutput("p", { stdout: output(file), exitCode });
    expect(records).toEqual([
      { metric_type: "p", value, unit: "", labels: { label }, details },
      {
        metric_type: "p_status",
        value: exitCode,
        unit: "state",
        details: { status: exitCode ? "WARNING" : "OK", text: details.text, exit_code: exitCode },
      },
    ]);
  });

  test("quoted labels with spaces and '', units, long text, perfdata on later lines, exit code 2", () => {
    const { records, problem } = readPluginOutput("pools", { stdout: output("quoted.txt"), exitCode: 2 });
    expect(problem).toBeUndefined();
    expect(values(records, "pools")).toEqual({
      "pool one": [85.5, "%"],
      "it's latency": [12, "ms"],
      "rx bytes": [1024, "KB"],
      ops: [17, "c"],
      "pool two": [40, "%"],
      uptime: [3600, "s"],
      cache: [2.5, "GB"],
    });
    expect(records.find((r) => r.labels?.label === "cache")?.details).toEqual({
      min: 0,
      max: 10,
      text: "POOLS CRITICAL - 1 of 2 pools degraded",
    });
    expect(status(records, "pools")).toEqual({
      metric_type: "pools_status",
      value: 2,
      unit: "state",
      details: {
        status: "CRITICAL",
        text: "POOLS CRITICAL - 1 of 2 pools degraded",
        long_text: "Pool one: degraded (disk 3 missing)\nPool two: OK",
        skipped: ["idle"],
        exit_code: 2,
      },
    });
  });

  test("a status line without perfdata gives the status record only", () => {
    const { records } = readPluginOutput("ping", { stdout: "PING OK - fine\n", exitCode: 0 });
    expect(records).toEqual([
      {
        metric_type: "ping_status",
        value: 0,
        unit: "state",
        details: { status: "OK", text: "PING OK - fine", exit_code: 0 },
      },
    ]);
  });

  test("Windows line endings", () => {
    const { records } = readPluginOutput("w", { stdout: output("crlf.txt"), exitCode: 0 });
    expect(values(records, "w")).toEqual({ a: [1, ""] });
    expect(status(records, "w")?.details?.text).toBe("CHECK OK - dos line ending");
  });
});

describe("perfdata items", () => {
  test("ranges are kept as written, plain numbers as numbers; bad items are listed, good ones kept", () => {
    const { items, malformed } = parsePerfdata(
      fs.readFileSync(fixture("plugin-output", "malformed.txt"), "utf8").split("|")[1]!,
    );
    expect(items.map((i) => i.label)).toEqual(["good", "good", "ranges"]);
    expect(items[2]).toEqual({ label: "ranges", value: 5, unit: "", warn: "@10:20", crit: "~:30", min: 0, max: 100 });
    expect(malformed).toEqual(["bad=abc", "thresholds=1;x;y;0"]);
  });

  test.each([
    ["an unterminated quote", "'open=1", ["'open=1"]],
    ["a missing value", "a= b=2", ["a="]],
    ["too many fields", "a=1;2;3;4;5;6", ["a=1;2;3;4;5;6"]],
    ["a bare word", "hello b=2", ["hello"]],
  ])("%s", (_, text, bad) => {
    expect(parsePerfdata(text).malformed).toEqual(bad);
  });

  test("malformed perfdata makes the status UNKNOWN, keeping the plugin's verdict and the good items", () => {
    const { records, problem } = readPluginOutput("m", { stdout: output("malformed.txt"), exitCode: 0 });
    expect(problem).toBe("malformed performance data: bad=abc thresholds=1;x;y;0");
    expect(values(records, "m")).toEqual({ good: [1, ""], ranges: [5, ""] });
    expect(status(records, "m")).toMatchObject({
      value: 3,
      details: { status: "UNKNOWN", plugin_status: "OK", skipped: ["good"] },
    });
  });
});

describe("plain lines", () => {
  test("name value [unit]", () => {
    const { records } = readPluginOutput("room", { stdout: output("plain.txt"), exitCode: 0 });
    expect(records).toEqual([
      { metric_type: "room", value: 41.5, unit: "C", labels: { label: "temperature" } },
      { metric_type: "room", value: 3, unit: "", labels: { label: "fans" } },
      { metric_type: "room", value: 12, unit: "count", labels: { label: "queue_length" } },
      { metric_type: "room_status", value: 0, unit: "state", details: { status: "OK", exit_code: 0 } },
    ]);
  });

  test("Munin's name.value N; U is left out", () => {
    const { records } = readPluginOutput("mu", { stdout: output("munin.txt"), exitCode: 0 });
    expect(values(records, "mu")).toEqual({ load: [0.42, ""], threads: [12, ""] });
    expect(status(records, "mu")?.details?.skipped).toEqual(["users"]);
  });
});

describe("runs that cannot be trusted give an UNKNOWN status record with the reason", () => {
  test.each([
    ["binary output", { stdout: output("garbage.bin"), exitCode: 0 }, "output is not text"],
    ["no output", { stdout: "", exitCode: 0 }, "no output"],
    ["an exit code outside 0-3", { stdout: "fine\n", exitCode: 127 }, "exit code 127 is not a plugin status (0-3)"],
    [
      "a timeout (partial output ignored)",
      { stdout: "OK|a=1\n", failure: "timed out after 10 s: killed" },
      "timed out after 10 s: killed",
    ],
  ])("%s", (_, run, reason) => {
    const { records, problem } = readPluginOutput("p", run);
    expect(problem).toBe(reason);
    expect(records.filter((r) => r.metric_type === "p")).toEqual([]);
    expect(status(records, "p")).toMatchObject({ value: 3, unit: "state", details: { status: "UNKNOWN", reason } });
  });

  test("output cut at the size limit: complete lines are read, the partial last one dropped", () => {
    const { records, problem } = readPluginOutput("big", {
      stdout: "a 1\nb 2\nc 3",
      truncated: true,
      failure: "printed more than 65536 bytes",
    });
    expect(problem).toBe("printed more than 65536 bytes");
    expect(values(records, "big")).toEqual({ a: [1, ""], b: [2, ""] });
    expect(status(records, "big")?.value).toBe(3);
  });
});
