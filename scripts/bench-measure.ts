// Shared by the benchmark scripts: wall time and peak memory of whole commands.
import { execFileSync } from "node:child_process";

export interface CommandFigures {
  /** Median wall time over the runs, in milliseconds. */
  medianMs: number;
  /** Largest resident set of the command (and its children) in any run, in MiB. */
  peakMiB: number;
}

// Node cannot read a child's rusage; Python's getrusage(RUSAGE_CHILDREN) can, and python3 is on every machine here.
const RUNNER = `
import json, resource, subprocess, sys, time
runs, cmd = int(sys.argv[1]), sys.argv[2:]
times = []
for _ in range(runs):
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    times.append((time.perf_counter() - start) * 1000)
times.sort()
print(json.dumps({"medianMs": times[len(times) // 2], "peakMiB": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
`;

export function measureCommand(command: string[], runs = 7, env: NodeJS.ProcessEnv = process.env): CommandFigures {
  return JSON.parse(execFileSync("python3", ["-c", RUNNER, String(runs), ...command], { encoding: "utf8", env }));
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Prints a table with aligned columns. */
export function printTable(title: string, header: string[], rows: (string | number)[][]): void {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  console.log(`\n${title}`);
  for (const row of cells) console.log(row.map((c, i) => c.padEnd(widths[i]!)).join("  "));
}
