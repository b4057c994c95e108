import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { installDir } from "../lib/paths.js";
import { isoLocal } from "../lib/time.js";
import type { Sample } from "../storage/sample.js";

/** A folder for a test's temporary files: under this run's folder (removed at the end of the run, see jest.config.js). */
export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(process.env.AMS_TEST_ROOT ?? os.tmpdir(), prefix));
}

/** A fresh, empty AMS_HOME. */
export function tempHome(): string {
  return tempDir("ams-test-");
}

export function writeConfig(home: string, config: unknown): void {
  fs.writeFileSync(path.join(home, "ams.config.json"), JSON.stringify(config));
}

/** Runs a built CLI (dist/<name>.js, built by `npm test` before jest starts) and never throws. */
export function runCli(name: string, args: string[], options: { env?: NodeJS.ProcessEnv; timeout?: number } = {}) {
  return execa(process.execPath, [path.join(installDir, "dist", `${name}.js`), ...args], {
    reject: false,
    timeout: options.timeout ?? 60_000,
    env: options.env,
  });
}

export const fixture = (...parts: string[]) => path.join(installDir, "test", "fixtures", ...parts);

/** The built-in metrics `ams-sensor all` stores on any Linux machine (net, diskio and temperature depend on its hardware). */
export const ALWAYS_MEASURED = [
  "CPU",
  "LoadPerCPU",
  "Load1",
  "Load5",
  "Load15",
  "RAM",
  "Swap",
  "Disk",
  "Inodes",
  "Uptime",
  "Processes",
  "Users",
];

/** Builds web-1 percentage samples stamped `at(minute)`: the alert tests' data points. */
export const percentSamples =
  (at: (minute: number) => Date) =>
  (metric: string, minute: number, value: number, labels?: Record<string, string>): Sample => ({
    server_id: "web-1",
    metric_type: metric,
    timestamp: isoLocal(at(minute)),
    value,
    unit: "%",
    ...(labels ? { labels } : {}),
  });
