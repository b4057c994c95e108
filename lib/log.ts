import fs from "node:fs";
import path from "node:path";

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/**
 * A job's log: timestamped lines appended to logs/<job>.log; warnings and errors also go to
 * stderr (as "ams-<job>: ...") so that cron mails them. Appends are synchronous so a crash still leaves its last line.
 */
export function jobLogger(logsDir: string, job: string): Logger {
  const file = path.join(logsDir, `${job}.log`);
  let dirReady = false;
  const write = (level: string, message: string) => {
    if (!dirReady) {
      fs.mkdirSync(logsDir, { recursive: true });
      dirReady = true;
    }
    fs.appendFileSync(file, `${new Date().toISOString()} ${level} ${message}\n`);
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
