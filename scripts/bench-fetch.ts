// Wall time of ams-fetch-remote pulling 1 and 20 remotes from one sshd on loopback (20 paths).
// Run after `npm run build`: node --import tsx scripts/bench-fetch.ts   (needs root for the test sshd)
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { execa } from "execa";
import { installDir } from "../lib/paths.js";
import { formatJsonArray } from "../storage/locked-file.js";
import { startSshd } from "../test/support/sshd.js";
import { captureRealShapes, realRecords } from "./bench-records.js";

const DAYS = 7; // of records shaped like the real sensors', at the default schedule
const RUNS = 3;

const sshd = await startSshd();
try {
  const stores = path.join(sshd.dir, "stores");
  fs.mkdirSync(stores);
  const text = formatJsonArray(realRecords(await captureRealShapes(), "bench", Date.now(), DAYS));
  for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(stores, `s${i}.json`), text);
  console.log(
    `ams-fetch-remote, loopback sshd, ${DAYS} days of records (${Math.round(text.length / 1024)} KiB) per remote, median of ${RUNS} runs`,
  );

  for (const count of [1, 20]) {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "ams-bench-"));
    const remotes = Array.from({ length: count }, (_, i) => ({
      name: `s${i}`,
      host: sshd.host,
      user: sshd.user,
      port: sshd.port,
      path: path.join(stores, `s${i}.json`),
      identity: sshd.identity,
    }));
    fs.writeFileSync(
      path.join(home, "ams.config.json"),
      JSON.stringify({ remotes, fetch: { known_hosts: sshd.knownHosts } }),
    );
    const times: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const start = performance.now();
      const result = await execa(
        process.execPath,
        [path.join(installDir, "dist", "ams-fetch-remote.js"), "--home", home],
        { reject: false },
      );
      times.push(performance.now() - start);
      if (result.exitCode !== 0) throw new Error(`ams-fetch-remote failed: ${result.stdout}${result.stderr}`);
    }
    times.sort((a, b) => a - b);
    console.log(
      `  ${String(count).padStart(2)} remote${count > 1 ? "s" : " "}: ${(times[Math.floor(RUNS / 2)]! / 1000).toFixed(2)} s`,
    );
    fs.rmSync(home, { recursive: true, force: true });
  }
} finally {
  await sshd.stop();
}
