import fs from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

/** The install folder: the nearest folder above this code holding package.json (from lib/ in the sources, from the build dist points to, dist-builds/<id>/ or its chunks/, in the bundles). */
export const installDir = findInstallDir(path.dirname(fileURLToPath(import.meta.url)));

function findInstallDir(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    // A build's own package.json only tells Node its bundles are CommonJS (scripts/build.mjs).
    const isBuild = path.basename(path.dirname(dir)) === "dist-builds";
    if (!isBuild && fs.existsSync(path.join(dir, "package.json"))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${start}: is AMS installed whole?`);
  }
}

/** Every runtime file AMS reads or writes, derived from one data home (docs/ARCHITECTURE.md#the-data-home). */
export interface Paths {
  home: string;
  config: string;
  store: string;
  remoteDir: string;
  alertsLog: string;
  stateDir: string;
  backupsDir: string;
  logsDir: string;
  outbox: string;
  publicDir: string;
}

/** `--home DIR`, else `$AMS_HOME`, else the install folder, so a fresh clone works with no setup. */
export function resolveHome(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(flag || env.AMS_HOME || installDir);
}

export function amsPaths(home: string): Paths {
  const storage = path.join(home, "storage");
  const logsDir = path.join(home, "logs");
  return {
    home,
    config: path.join(home, "ams.config.json"),
    store: path.join(storage, "system_logs.json"),
    remoteDir: path.join(storage, "remote"),
    alertsLog: path.join(storage, "alerts_log.json"),
    stateDir: path.join(storage, "state"),
    backupsDir: path.join(home, "backups"),
    logsDir,
    outbox: path.join(logsDir, "outbox"),
    publicDir: path.join(home, "public"),
  };
}
