// Shared by the benchmark scripts: wall time and peak memory of whole commands.
import { execFileSync } from "node:child_process";
import os from "node:os";

export interface CommandFigures {
  /** Median wall time over the runs, in milliseconds. */
  medianMs: number;
  /** Fastest run: the command's own cost, least disturbed by other load on the machine. */
  bestMs: number;
  /** Median CPU time (user + system, children included), in milliseconds: less swayed by other load than wall time. */
  cpuMs: number;
  /** Largest resident set of the command in any run, in MiB. */
  peakMiB: number;
}

/**
 * The environment cron gives a job (HOME, LOGNAME, SHELL=/bin/sh, PATH=/usr/bin:/bin), which the
 * benchmarks run commands in. An interactive shell's variables change node's start-up:
 * NODE_EXTRA_CA_CERTS alone makes node parse a certificate bundle at every start, for `node -e 0`
 * as for any job (about 70 ms of CPU here), and NODE_OPTIONS may load anything.
 */
export const CRON_ENV: Record<string, string> = {
  HOME: os.homedir(),
  LOGNAME: os.userInfo().username,
  SHELL: "/bin/sh",
  PATH: "/usr/bin:/bin",
};

// Node cannot read a child's rusage; Python's os.wait4 can, and python3 is on every machine here.
// The commands run in turns, round after round, so that a burst of load on this shared machine
// weighs on all of them alike rather than on whichever ran during it.
const RUNNER = `
import json, os, subprocess, sys, time
rounds, commands, env = int(sys.argv[1]), json.loads(sys.argv[2]), json.loads(sys.argv[3])
times = [[] for _ in commands]
cpus = [[] for _ in commands]
peaks = [0 for _ in commands]
for _ in range(rounds):
    for i, cmd in enumerate(commands):
        start = time.perf_counter()
        child = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, _, usage = os.wait4(child.pid, 0)
        times[i].append((time.perf_counter() - start) * 1000)
        cpus[i].append((usage.ru_utime + usage.ru_stime) * 1000)
        peaks[i] = max(peaks[i], usage.ru_maxrss / 1024)
print(json.dumps([{"medianMs": sorted(t)[len(t) // 2], "bestMs": min(t), "cpuMs": sorted(c)[len(c) // 2], "peakMiB": p} for t, c, p in zip(times, cpus, peaks)]))
`;

/** Figures for each command, in the order given, run in cron's environment. */
export function measureCommands(commands: string[][], rounds = 15): CommandFigures[] {
  return JSON.parse(
    execFileSync("python3", ["-c", RUNNER, String(rounds), JSON.stringify(commands), JSON.stringify(CRON_ENV)], {
      encoding: "utf8",
    }),
  ) as CommandFigures[];
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Prints a table with aligned columns. */
export function printTable(title: string, header: string[], rows: (string | number)[][]): void {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => cells.reduce((widest, r) => Math.max(widest, r[i]!.length), 0));
  console.log(`\n${title}`);
  for (const row of cells) console.log(row.map((c, i) => c.padEnd(widths[i]!)).join("  "));
}
