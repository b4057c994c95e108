// ams-fetch-remote pulling 1, 10 and 50 remotes from one sshd on loopback, each serving its own
// 7-day store shaped like the real sensors'. Between runs every store gets the records of one
// 2-minute sensor run, appended in place as the remote's own sensors do. Per run: wall time, and the
// hub's CPU time (user + system) of the command and its children (scp, ssh) from wait4's rusage,
// plus that of the shared ssh connections it leaves running (their /proc times), and the remote
// sshd's. The first run opens the connections; the later ones are the steady state.
// Run after `npm run build`: node --import tsx scripts/bench-fetch.ts   (needs root for the test sshd)
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { amsPaths, installDir } from "../lib/paths.js";
import { closeSharedConnections, sharedConnectionsDir } from "../remote/shared-connection.js";
import { appendJsonArray, formatJsonArray, replaceJsonArrayText } from "../storage/locked-file.js";
import { startSshd } from "../test/support/sshd.js";
import { CRON_ENV, median, printTable } from "./bench-measure.js";
import { captureRealShapes, realRecords } from "./bench-records.js";

const DAYS = 7;
const RUNS = 5; // the first, then 4 in the steady state
const COUNTS = [1, 10, 50]; // ascending: the stores are made for the last

// Node cannot read a child's rusage; Python's os.wait4 can.
const RUNNER = `
import json, os, subprocess, sys, time
start = time.perf_counter()
child = subprocess.Popen(json.loads(sys.argv[1]), env=json.loads(sys.argv[2]), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
_, status, usage = os.wait4(child.pid, 0)
print(json.dumps({"wall": time.perf_counter() - start, "cpu": usage.ru_utime + usage.ru_stime, "exit": os.waitstatus_to_exitcode(status), "stderr": child.stderr.read().decode()}))
`;

const TICK = 100; // USER_HZ on Linux
/** CPU seconds of a process and of the children it reaped, from /proc; 0 when it is gone. */
function treeSeconds(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields.slice(11, 15).reduce((sum, f) => sum + Number(f), 0) / TICK;
  } catch {
    return 0;
  }
}

/** Live processes whose command line contains `needle` (the shared connections name their socket there). */
function processesMentioning(needle: string): number[] {
  return fs
    .readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(needle);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** The test sshd's listener and every session under it. */
function sshdTree(listener: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of fs.readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      // gone meanwhile
    }
  }
  const tree = [listener];
  for (let i = 0; i < tree.length; i++) for (const child of children.get(tree[i]!) ?? []) tree.push(child);
  return tree;
}

const sum = (pids: number[]) => pids.reduce((total, pid) => total + treeSeconds(pid), 0);

const sshd = await startSshd();
const listener = Number(fs.readFileSync(path.join(sshd.dir, "sshd.pid"), "utf8"));
try {
  const stores = path.join(sshd.dir, "stores");
  fs.mkdirSync(stores);
  const shapes = await captureRealShapes();
  const now = Date.now();
  const text = formatJsonArray(realRecords(shapes, "s0", now, DAYS));
  const storeOf = (i: number) => path.join(stores, `s${i}.json`);
  // Written as the remote's own writer writes (noted), so that its sensors' appends go in place from the first.
  for (let i = 0; i < COUNTS[COUNTS.length - 1]!; i++)
    await replaceJsonArrayText(storeOf(i), text.replaceAll('"server_id":"s0"', `"server_id":"s${i}"`), async () => {});
  // What the remote's 2-minute sensor line adds per run.
  const twoMinutes = shapes.lines.filter((line) => line.minutes === 2).flatMap((line) => line.records);
  let round = 0;
  const appendRun = async (count: number) => {
    round++;
    for (let i = 0; i < count; i++)
      await appendJsonArray(
        storeOf(i),
        twoMinutes.map((r) => ({ ...r, server_id: `s${i}`, timestamp: new Date(now + round * 120_000).toISOString() })),
      );
  };
  console.log(
    `ams-fetch-remote, loopback sshd, ${DAYS} days of records (${(text.length / 2 ** 20).toFixed(1)} MiB) per remote, ${twoMinutes.length} records appended to each between runs; ${RUNS} runs, load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores`,
  );

  const rows: string[][] = [];
  let oneRemote = 0;
  for (const count of COUNTS) {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "ams-bench-"));
    const remotes = Array.from({ length: count }, (_, i) => ({
      name: `s${i}`,
      host: sshd.host,
      user: sshd.user,
      port: sshd.port,
      path: storeOf(i),
      identity: sshd.identity,
    }));
    fs.writeFileSync(
      path.join(home, "ams.config.json"),
      JSON.stringify({ remotes, fetch: { known_hosts: sshd.knownHosts } }),
    );
    const runs: { wall: number; cpu: number; shared: number; sshd: number }[] = [];
    for (let run = 0; run < RUNS; run++) {
      if (run > 0) await appendRun(count);
      const shared = () => sum(processesMentioning(sharedConnectionsDir(amsPaths(home))));
      const [sharedBefore, sshdBefore] = [shared(), sum(sshdTree(listener))];
      const argv = [process.execPath, path.join(installDir, "dist", "ams-fetch-remote.js"), "--home", home];
      const result = JSON.parse(
        execFileSync("python3", ["-c", RUNNER, JSON.stringify(argv), JSON.stringify(CRON_ENV)], { encoding: "utf8" }),
      ) as {
        wall: number;
        cpu: number;
        exit: number;
        stderr: string;
      };
      if (result.exit !== 0) throw new Error(`ams-fetch-remote failed: ${result.stderr}`);
      runs.push({
        wall: result.wall,
        cpu: result.cpu,
        shared: shared() - sharedBefore,
        sshd: sum(sshdTree(listener)) - sshdBefore,
      });
    }
    await closeSharedConnections(amsPaths(home));
    const steady = runs.slice(1);
    const wall = median(steady.map((r) => r.wall));
    if (count === 1) oneRemote = wall;
    const cpu = (r: { cpu: number; shared: number }) => r.cpu + r.shared;
    rows.push([
      String(count),
      `${runs[0]!.wall.toFixed(2)} s / ${cpu(runs[0]!).toFixed(2)} s`,
      `${wall.toFixed(2)} s (${(wall / oneRemote).toFixed(1)}×)`,
      `${median(steady.map(cpu)).toFixed(2)} s (command ${median(steady.map((r) => r.cpu)).toFixed(2)}, shared connections ${median(steady.map((r) => r.shared)).toFixed(2)})`,
      `${median(steady.map((r) => r.sshd)).toFixed(2)} s`,
    ]);
    fs.rmSync(home, { recursive: true, force: true });
  }
  printTable(
    "",
    [
      "remotes",
      "first run: wall / hub CPU",
      "steady state: wall (× 1 remote)",
      "hub CPU per run (median)",
      "remote sshd CPU per run",
    ],
    rows,
  );
} finally {
  await sshd.stop();
}
