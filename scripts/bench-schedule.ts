// The cost of the default schedule: one simulated hour of crontab.example (every job line at its
// minutes, AMS_NOW moving with them), in a throwaway data home whose store already holds 7 days of
// records shaped like the real sensors'. Each job's CPU time (user + system, its children included)
// and bytes written to disk come from the kernel when the bench reaps it (wait4's rusage, and the
// reaped child's write_bytes that Linux adds to its parent's /proc/self/io). Two set-ups: one
// server, and a 10-server hub (this server and 9 remotes whose copies are in storage/remote/; the
// pulls themselves are not run here: scripts/bench-fetch.ts measures them against a real sshd).
// The cleanup rewrites the store in batches (retention.consolidate_every), so its writes are also
// averaged over two more simulated days of its own runs.
// Run after `npm run build`: node --import tsx scripts/bench-schedule.ts   (SETUPS=1 or 1,10)
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadConfig } from "../config/ams-config.js";
import { installDir } from "../lib/paths.js";
import { formatJsonArray } from "../storage/locked-file.js";
import { cronMinutes, scheduleOptions } from "./crontab-block.js";
import { CRON_ENV, median, printTable } from "./bench-measure.js";
import { captureRealShapes, realRecords, scheduleLines, serveCertFeeds } from "./bench-records.js";

const DAYS = 7;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** Hours of ams-cleanup runs its writes per hour are averaged over. */
const CLEANUP_HOURS = 48;

interface Step {
  job: string;
  argv: string[];
  env: Record<string, string>;
  counted: boolean;
  /** scripts/install-crontab schedules it for this data home's config (it leaves out jobs with nothing to do). */
  installed: boolean;
}
interface StepCost {
  cpu: number;
  written: number;
  exit: number;
}

const RUNNER = `
import json, os, subprocess, sys
def written():
    with open('/proc/self/io') as f:
        return int(next(l for l in f if l.startswith('write_bytes:')).split()[1])
out = []
for step in json.load(sys.stdin):
    before = written()
    child = subprocess.Popen(step['argv'], env=step['env'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    out.append({'cpu': usage.ru_utime + usage.ru_stime, 'written': written() - before, 'exit': os.waitstatus_to_exitcode(status)})
print(json.dumps(out))
`;

/** Runs the steps one after the other; asynchronously, so that this process keeps serving the CERT feeds meanwhile. */
async function runSteps(steps: Step[]): Promise<StepCost[]> {
  const runner = spawn("python3", ["-c", RUNNER], { stdio: ["pipe", "pipe", "inherit"] });
  runner.stdin.end(JSON.stringify(steps));
  let out = "";
  for await (const chunk of runner.stdout) out += String(chunk);
  return JSON.parse(out) as StepCost[];
}

/** One job of a cron line: `node dist/ams-x.js args… --home H >/dev/null 2>>…` as argv and its name in the table. */
function parseCommand(command: string): { job: string; argv: string[] } | undefined {
  const words = command.trim().split(/\s+/);
  if (words[0] === "sleep") return undefined;
  const argv = words.slice(
    0,
    words.findIndex((w) => w.startsWith(">") || w.startsWith("2>")),
  );
  const args = argv.slice(2, argv.indexOf("--home"));
  return { job: [path.basename(argv[1]!, ".js"), ...args].join(" "), argv };
}

/** A job line less its five time fields. */
const commandOf = (line: string) => line.split(/\s+/).slice(5).join(" ");

/** The hour of the schedule as the steps cron would start, in order, each with its AMS_NOW. */
function hourOfSchedule(home: string, start: number, skip: (job: string) => boolean): Step[] {
  const installed = new Set(
    scheduleLines(home, scheduleOptions(loadConfig(path.join(home, "ams.config.json"))))
      .filter((line) => !line.startsWith("@"))
      .flatMap((line) =>
        commandOf(line)
          .split(";")
          .map((command) => parseCommand(command)?.job),
      ),
  );
  const lines = scheduleLines(home)
    .filter((line) => !line.startsWith("@"))
    .map((line) => {
      const minute = line.split(/\s+/, 1)[0]!;
      const command = commandOf(line);
      const delay = /^sleep (\d+);/.exec(command)?.[1];
      return { minutes: cronMinutes(minute)!, offset: Number(delay ?? 0) * 1000, commands: command.split(";") };
    })
    // Cron starts a minute's lines at once; the delayed ones (alert, graphs) run after the others.
    .sort((a, b) => a.offset - b.offset);
  const steps: Step[] = [];
  for (let minute = 0; minute < 60; minute++)
    for (const line of lines) {
      if (!line.minutes.includes(minute)) continue;
      const at = new Date(start + minute * MINUTE + line.offset).toISOString();
      for (const command of line.commands) {
        const parsed = parseCommand(command);
        if (parsed && !skip(parsed.job))
          steps.push({
            ...parsed,
            env: { ...CRON_ENV, AMS_NOW: at },
            counted: true,
            installed: installed.has(parsed.job),
          });
      }
    }
  return steps;
}

/** CPU seconds (user + system) ams-web spends over `seconds` while nobody requests anything. */
async function webIdleCpu(home: string, seconds: number): Promise<number> {
  const web = spawn(process.execPath, [path.join(installDir, "dist", "ams-web.js"), "--home", home, "--port", "0"], {
    stdio: "ignore",
    env: CRON_ENV,
  });
  const ticks = () => {
    const fields = fs.readFileSync(`/proc/${web.pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of proc(5))
  };
  // Past its start-up and the collection of what start-up left (a minute's worth of ticks), as it idles for days.
  await new Promise((resolve) => setTimeout(resolve, 45_000));
  const before = ticks();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const used = (ticks() - before) / 100; // USER_HZ
  web.kill("SIGTERM");
  await new Promise((resolve) => web.once("exit", resolve));
  return used;
}

const shapes = await captureRealShapes();
const feeds = await serveCertFeeds();
const baseline = await runSteps(
  Array.from({ length: 15 }, () => ({
    job: "node -e 0",
    argv: [process.execPath, "-e", "0"],
    env: CRON_ENV,
    counted: true,
    installed: true,
  })),
);
const nodeCpu = median(baseline.map((s) => s.cpu));
console.log(
  `One simulated hour of crontab.example, ${DAYS} days already stored (records shaped like this machine's sensors'), load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores`,
);
console.log(`node -e 0: ${(nodeCpu * 1000).toFixed(0)} ms CPU per run (median of 15)`);

try {
  for (const servers of (process.env.SETUPS ?? "1,10").split(",").map(Number)) {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "ams-bench-schedule-"));
    const now = Date.now();
    const names = Array.from({ length: servers }, (_, i) => `bench-${String(i).padStart(2, "0")}`);
    const remotes = names.slice(1).map((name) => ({ name, host: `${name}.example.org`, user: "ams" }));
    fs.mkdirSync(path.join(home, "storage", "remote"), { recursive: true });
    fs.mkdirSync(path.join(home, "logs"));
    fs.writeFileSync(
      path.join(home, "ams.config.json"),
      JSON.stringify({ server_id: names[0], remotes, sensors: { cert: feeds.config } }),
    );
    let storeBytes = 0;
    for (const [i, name] of names.entries()) {
      const file = path.join(home, "storage", i === 0 ? "system_logs.json" : path.join("remote", `${name}_logs.json`));
      fs.writeFileSync(file, formatJsonArray(realRecords(shapes, name, now, DAYS, i)));
      storeBytes += fs.statSync(file).size;
    }
    // No pull reaches the remotes' made-up hosts: their copies stay as they are.
    const skip = (job: string) => servers > 1 && job === "ams-fetch-remote";
    const hour = hourOfSchedule(home, now, skip);
    // A first run of each job (counters saved, config cached, pages drawn once), not counted: the hour is the steady state.
    const warmUp = [...new Map(hour.map((s) => [s.job, { ...s, counted: false }])).values()];
    const costs = (await runSteps([...warmUp, ...hour])).slice(warmUp.length);
    const byJob = new Map<string, { installed: boolean; runs: StepCost[] }>();
    hour.forEach((step, i) => {
      const job = byJob.get(step.job) ?? { installed: step.installed, runs: [] };
      job.runs.push(costs[i]!);
      byJob.set(step.job, job);
    });
    const rows = [...byJob].map(([job, { installed, runs }]) => {
      const cpu = runs.reduce((sum, r) => sum + r.cpu, 0);
      const written = runs.reduce((sum, r) => sum + r.written, 0);
      const failed = runs.filter((r) => r.exit !== 0).length;
      return [
        job,
        installed ? "yes" : "left out",
        runs.length,
        median(runs.map((r) => r.cpu)).toFixed(3),
        cpu.toFixed(1),
        (written / runs.length / 1024).toFixed(1),
        (written / 2 ** 20).toFixed(2),
        failed === 0 ? "" : `${failed} exited non-zero`,
      ];
    });
    const total = (label: string, which: StepCost[]) => {
      const cpu = which.reduce((sum, r) => sum + r.cpu, 0);
      const written = which.reduce((sum, r) => sum + r.written, 0);
      return [
        label,
        "",
        which.length,
        "",
        `${cpu.toFixed(1)} (${((cpu / 3600) * 100).toFixed(2)} % of a core)`,
        "",
        (written / 2 ** 20).toFixed(2),
        "",
      ];
    };
    printTable(
      `${servers === 1 ? "One server" : `${servers}-server hub`} (stores ${(storeBytes / 2 ** 20).toFixed(1)} MiB in all${skip("ams-fetch-remote") ? "; ams-fetch-remote not run" : ""})`,
      ["job", "installed", "runs/h", "CPU s/run (median)", "CPU s/h", "KiB written/run", "MiB written/h", ""],
      [
        ...rows,
        total(
          "total as installed",
          costs.filter((_, i) => hour[i]!.installed),
        ),
        total("total, with the jobs left out", costs),
      ],
    );
    if (servers === 1) {
      const idle = await webIdleCpu(home, 60);
      console.log(
        `ams-web idle (drawing nothing: no page requested): ${((idle / 60) * 3600).toFixed(2)} CPU-s/h (${idle.toFixed(2)} s measured over 60 s). ` +
          `Each page view after the data changed costs one drawing (the ams-graphs row); a page left open reloads every graphs.refresh (5 min): at most 12 drawings an hour.`,
      );
      const days = Array.from({ length: CLEANUP_HOURS }, (_, h) =>
        hourOfSchedule(home, now + (h + 1) * HOUR, (job) => job !== "ams-cleanup"),
      ).flat();
      const runs = await runSteps(days);
      const written = runs.reduce((sum, r) => sum + r.written, 0);
      const rewrites = runs.filter((r) => r.written > 2 ** 20).length;
      console.log(
        `ams-cleanup over the next ${CLEANUP_HOURS} simulated hours: ${runs.length} runs, ${rewrites} rewriting the store, ` +
          `${(written / 2 ** 20).toFixed(1)} MiB written: ${(written / 2 ** 20 / CLEANUP_HOURS).toFixed(2)} MiB/h ` +
          `(CPU ${median(runs.map((r) => r.cpu)).toFixed(3)} s/run median)`,
      );
    }
    if (process.env.KEEP) console.log(`kept ${home}`);
    else fs.rmSync(home, { recursive: true, force: true });
  }
} finally {
  await feeds.close();
}
