import fs from "node:fs";
import path from "node:path";
import { ifExistsSync, removeIfExistsSync } from "./if-exists.js";
import type { LogsOptions } from "./log-config.js";

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

const DEFAULT_ROTATION: LogsOptions = { max_bytes: 5 * 1024 * 1024, generations: 3 };

const sizeOf = (file: string): number => ifExistsSync(() => fs.statSync(file).size, 0);

/**
 * Makes room for `incoming` more bytes in `file`: when it would pass `max_bytes`, file.N-1 → file.N
 * … file → file.1, and the oldest generation is dropped. Two jobs rotating the same log at once
 * can shift it twice, losing one old generation at worst, never a line being written.
 */
export function rotateLogFile(file: string, options: LogsOptions, incoming = 0): boolean {
  const size = sizeOf(file);
  if (size === 0 || size + incoming <= options.max_bytes) return false;
  if (options.generations === 0) {
    removeIfExistsSync(file);
    return true;
  }
  removeIfExistsSync(`${file}.${options.generations}`);
  for (let n = options.generations - 1; n >= 1; n--)
    ifExistsSync(() => fs.renameSync(`${file}.${n}`, `${file}.${n + 1}`), undefined);
  fs.renameSync(file, `${file}.1`);
  return true;
}

/**
 * A job's log: timestamped lines appended to logs/<job>.log; warnings and errors also go to
 * stderr (as "ams-<job>: ...") so that cron mails them. Appends are synchronous so a crash still leaves its last line.
 * The job rotates its own log by size (config `logs`), so years of cron runs stay bounded.
 */
export function jobLogger(logsDir: string, job: string, rotation: LogsOptions = DEFAULT_ROTATION): Logger {
  const file = path.join(logsDir, `${job}.log`);
  let dirReady = false;
  const write = (level: string, message: string) => {
    if (!dirReady) {
      fs.mkdirSync(logsDir, { recursive: true });
      dirReady = true;
    }
    const line = `${new Date().toISOString()} ${level} ${message}\n`;
    try {
      rotateLogFile(file, rotation, Buffer.byteLength(line));
    } catch {
      // A rotation that fails (permissions, a race) must not cost the line itself.
    }
    fs.appendFileSync(file, line);
  };
  return {
    info: (message) => write("INFO", message),
    warn: (message) => {
      write("WARN", message);
      process.stderr.write(`ams-${job}: warning: ${message}\n`);
    },
    error: (message) => {
      write("ERROR", message);
      process.stderr.write(`ams-${job}: ${message}\n`);
    },
  };
}
