// npm run bench, part 1: sensor start-up cost against bare node, and store append cost by store size.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { installDir } from "../lib/paths.js";
import type { Sample } from "../storage/sample.js";
import { appendSamples } from "../storage/store.js";
import { measureCommands, median, printTable, type CommandFigures } from "./bench-measure.js";
import { captureRealShapes, realRecords } from "./bench-records.js";

const home = fs.mkdtempSync(path.join(os.tmpdir(), "ams-bench-"));
const cli = path.join(installDir, "dist", "ams-sensor.js");

const SENSORS = ["cpu", "ram", "disk", "processes"];
/** The sensors crontab.example runs every 2 minutes, in one process. */
const TWO_MINUTE_SLOT = ["cpu", "load", "net", "diskio"];
// A first round as cron's first run would do it: cpu, net and diskio counters saved, config
// validated. The figures below are of the runs after it, without the one-second window of a first sample.
measureCommands(
  [...SENSORS.map((sensor) => [sensor]), TWO_MINUTE_SLOT].map((names) => [
    process.execPath,
    cli,
    ...names,
    "--home",
    home,
  ]),
  1,
);
// The file operations of an `ams-sensor cpu` run with none of AMS's code, all synchronous: what
// Node itself costs for them, the floor any sensor code starts from. Cached config read, run lock
// taken by link() and released at exit, /proc/stat and the saved counters read, the counters
// written back (fsync, rename), one record appended in place under a lock folder (fdatasync), a log
// line, the printed sample.
const FLOOR = `
const fs = require("node:fs");
const home = process.argv[2];
JSON.parse(fs.readFileSync(home + "/floor-config.json", "utf8"));
const lock = home + "/floor.run.lock", mine = lock + "." + process.pid;
fs.writeFileSync(mine, JSON.stringify({ pid: process.pid, start: fs.readFileSync("/proc/self/stat", "utf8").split(" ")[21] }));
fs.linkSync(mine, lock);
fs.unlinkSync(mine);
process.once("exit", () => fs.unlinkSync(lock));
const cpu = fs.readFileSync("/proc/stat", "utf8").split("\\n")[0].split(/ +/).slice(1).map(Number);
const saved = home + "/floor-cpu.json";
if (fs.existsSync(saved)) JSON.parse(fs.readFileSync(saved, "utf8"));
const fd = fs.openSync(saved + ".new", "w");
fs.writeSync(fd, JSON.stringify(cpu));
fs.fsyncSync(fd);
fs.closeSync(fd);
fs.renameSync(saved + ".new", saved);
const store = home + "/floor-store.json";
if (!fs.existsSync(store)) fs.writeFileSync(store, "[]");
fs.mkdirSync(store + ".lock");
const s = fs.openSync(store, "r+");
const size = fs.fstatSync(s).size;
const record = JSON.stringify({ timestamp: new Date().toISOString(), server_id: "bench", metric_type: "CPU", value: cpu[0] % 100 });
fs.writeSync(s, (size > 2 ? "," : "") + record + "]", size - 1);
fs.fdatasyncSync(s);
fs.closeSync(s);
fs.rmdirSync(store + ".lock");
fs.appendFileSync(home + "/floor.log", "cpu: 1 sample(s) stored\\n");
fs.writeSync(1, "CPU " + cpu[0] % 100 + " %\\n");
`;
// The same, loading first the Node modules AMS's code on that path is built on: the store, the
// state files and the sensors use fs/promises, the lock timers/promises, the code cache node:vm.
const MODULES = ["node:fs/promises", "node:timers/promises", "node:os", "node:vm", "node:url"];
const floor = path.join(home, "floor.cjs");
fs.writeFileSync(floor, FLOOR);
const floorWithModules = path.join(home, "floor-modules.cjs");
fs.writeFileSync(floorWithModules, `${MODULES.map((m) => `require("${m}");`).join("")}\n${FLOOR}`);
fs.writeFileSync(
  path.join(home, "floor-config.json"),
  fs.readFileSync(path.join(home, "storage", "state", "config.json")),
);
const [baseline, floorFigures, floorWithModulesFigures, ...figures] = measureCommands([
  [process.execPath, "-e", "0"],
  [process.execPath, floor, home],
  [process.execPath, floorWithModules, home],
  ...SENSORS.map((sensor) => [process.execPath, cli, sensor, "--home", home]),
]);
const row = (name: string, f: CommandFigures) => [
  name,
  f.medianMs.toFixed(0),
  (f.medianMs / baseline!.medianMs).toFixed(2),
  f.cpuMs.toFixed(0),
  (f.cpuMs / baseline!.cpuMs).toFixed(2),
  f.peakMiB.toFixed(1),
];
printTable(
  "Sensor runs in cron's environment (15 rounds, commands in turns; targets: ≤ 1.3× node -e 0, ≤ 80 MiB)",
  ["command", "wall ms (median)", "× node", "CPU ms (median)", "× node", "peak MiB"],
  [
    row("node -e 0", baseline!),
    row("the same file operations, no AMS code", floorFigures!),
    row("the same, loading the Node modules AMS's code uses", floorWithModulesFigures!),
    ...figures.map((f, i) => row(`ams-sensor ${SENSORS[i]}`, f)),
  ],
);

const [alone, together] = measureCommands([
  [process.execPath, cli, "cpu", "--home", home],
  [process.execPath, cli, ...TWO_MINUTE_SLOT, "--home", home],
]);
printTable(
  `One cron slot in one process (15 rounds; target: ≤ 1.2× ams-sensor cpu)`,
  ["command", "median ms", "× cpu alone", "best ms", "× cpu alone", "peak MiB"],
  [
    ["ams-sensor cpu", alone!.medianMs.toFixed(0), "1.00", alone!.bestMs.toFixed(0), "1.00", alone!.peakMiB.toFixed(1)],
    [
      `ams-sensor ${TWO_MINUTE_SLOT.join(" ")}`,
      together!.medianMs.toFixed(0),
      (together!.medianMs / alone!.medianMs).toFixed(2),
      together!.bestMs.toFixed(0),
      (together!.bestMs / alone!.bestMs).toFixed(2),
      together!.peakMiB.toFixed(1),
    ],
  ],
);

// Records shaped like the real sensors' (with their details), as a week of them would be stored.
const week = realRecords(await captureRealShapes(), "bench-1", Date.now(), 7);
const sample = (i: number): Sample => week[week.length - 1 - (i % week.length)]!;

const appendRows: (string | number)[][] = [];
for (const size of [1_000, 12_000, 100_000]) {
  const file = path.join(home, `store-${size}.json`);
  await appendSamples(
    file,
    Array.from({ length: size }, (_, i) => sample(i)),
  );
  const times: number[] = [];
  for (let i = 0; i < 9; i++) {
    const start = performance.now();
    await appendSamples(file, [sample(0)]);
    times.push(performance.now() - start);
  }
  appendRows.push([size, (fs.statSync(file).size / 2 ** 20).toFixed(1), median(times).toFixed(1)]);
}
printTable(
  "Append one record (median of 9; target ≤ 50 ms at 12k records)",
  ["records", "file MiB", "append ms"],
  appendRows,
);
fs.rmSync(home, { recursive: true, force: true });
