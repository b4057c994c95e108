import path from "node:path";
import { execa } from "execa";
import { installDir } from "../lib/paths.js";

// writeStdout writes to file descriptor 1 itself. A pipe that its reader made non-blocking refuses
// what it cannot hold (EAGAIN); the rest must still arrive, whole and in order.
describe("writeStdout", () => {
  // Python makes the pipe, sets its writing end non-blocking, and reads only after a pause, so that
  // the 2 MiB written overflow the pipe's buffer (64 KiB) long before anything is read.
  const READER = `
import os, subprocess, sys, time
r, w = os.pipe()
os.set_blocking(w, False)
child = subprocess.Popen(sys.argv[1:], stdout=w)
os.close(w)
time.sleep(0.5)
chunks = []
while True:
    data = os.read(r, 65536)
    if not data:
        break
    chunks.append(data)
child.wait()
sys.stdout.buffer.write(b"".join(chunks))
sys.exit(child.returncode)
`;
  const WRITER = `
import { writeStdout } from ${JSON.stringify(path.join(installDir, "lib", "stdout.ts"))};
const lines = Array.from({ length: 100000 }, (_, i) => String(i).padStart(20, "0") + "\\n");
writeStdout(lines.join(""));
`;

  test("a non-blocking pipe that is full gets the rest through process.stdout, in order", async () => {
    const run = await execa(
      "python3",
      ["-c", READER, process.execPath, "--import", "tsx", "--input-type=module", "-e", WRITER],
      { reject: false, maxBuffer: 8 * 2 ** 20 },
    );
    expect(run.stderr).toBe("");
    expect(run.exitCode).toBe(0);
    const lines = run.stdout.split("\n");
    expect(lines).toHaveLength(100000);
    expect(lines.every((line, i) => line === String(i).padStart(20, "0"))).toBe(true);
  }, 30_000);
});
