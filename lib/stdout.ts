import fs from "node:fs";

/**
 * Writes to standard output without process.stdout, whose first use loads Node's stream modules:
 * about 3 ms of CPU, as much as a sensor's measurement. The bytes go straight to file descriptor 1,
 * as process.stdout itself does for a file or a terminal; if another process made the pipe
 * non-blocking, what it does not take at once goes through process.stdout.
 */
export function writeStdout(text: string): void {
  const bytes = Buffer.from(text);
  let written = 0;
  try {
    while (written < bytes.length) written += fs.writeSync(1, bytes, written);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EAGAIN") throw err;
    process.stdout.write(bytes.subarray(written));
  }
}
