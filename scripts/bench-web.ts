// ams-web under load, in this process: /metrics over a 100k-record store, /healthz while four
// scrapers loop, and a logged-in page while twenty addresses guess passwords; then a 10-server
// fleet of 7 days each (records shaped like the real sensors'): /metrics, and a page requested
// when its data changed (drawn first, by ams-graphs in a child process) and when it did not.
// Run after `npm run build`: node --import tsx scripts/bench-web.ts
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { parseConfig } from "../config/ams-config.js";
import { jobLogger } from "../lib/log.js";
import { amsPaths } from "../lib/paths.js";
import { formatJsonArray } from "../storage/locked-file.js";
import { hashPassword, verifyPassword } from "../web/auth.js";
import { amsRoutes } from "../web/routes.js";
import { createWebServer } from "../web/server.js";
import { pagesOnRequest } from "../web/pages-on-request.js";
import { median, printTable } from "./bench-measure.js";
import { captureRealShapes, realRecords } from "./bench-records.js";

const RECORDS = 100_000;
const LOAD_SECONDS = 5;

function get(
  port: number,
  target: string,
  from = "127.0.0.1",
  headers: http.OutgoingHttpHeaders = {},
): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.get(
      { host: "127.0.0.1", port, path: target, localAddress: from, headers, agent: false },
      (res) => {
        res.resume();
        res.on("end", () => resolve(performance.now() - started));
      },
    );
    req.on("error", reject);
  });
}

const p99 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length * 0.99)]!;

/** Runs `task` in a loop until `until`, from `workers` loops at once. */
async function loop(workers: number, until: number, task: (i: number) => Promise<unknown>) {
  await Promise.all(
    Array.from({ length: workers }, async (_, i) => {
      while (performance.now() < until) await task(i).catch(() => {});
    }),
  );
}

const home = fs.mkdtempSync(path.join(os.tmpdir(), "ams-bench-web-"));
try {
  const paths = amsPaths(home);
  fs.mkdirSync(paths.publicDir, { recursive: true });
  fs.mkdirSync(path.dirname(paths.store), { recursive: true });
  fs.writeFileSync(path.join(paths.publicDir, "index.html"), "<!doctype html><title>AMS</title>");
  const records = Array.from({ length: RECORDS }, (_, i) => ({
    server_id: `s${i % 10}`,
    metric_type: ["CPU", "RAM", "Disk", "Processes"][i % 4],
    timestamp: new Date(Date.UTC(2026, 10, 1) + i * 60_000).toISOString(),
    value: i % 100,
    unit: i % 4 === 3 ? "count" : "%",
  }));
  fs.writeFileSync(paths.store, formatJsonArray(records));
  const config = parseConfig({ server_id: "s0" }, "bench");
  const log = jobLogger(path.join(home, "logs"), "web");
  const auth = { user: "admin", password_hash: await hashPassword("correct horse") };
  let checks = 0;
  const server = createWebServer({
    publicDir: paths.publicDir,
    log,
    auth,
    authOptions: { verify: (p, s) => (checks++, verifyPassword(p, s)) },
    routes: amsRoutes(paths, config),
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const login = { Authorization: `Basic ${Buffer.from("admin:correct horse").toString("base64")}` };

  const rows: (string | number)[][] = [];
  const first = await get(port, "/metrics", "127.0.0.1", login);
  const again: number[] = [];
  for (let i = 0; i < 20; i++) again.push(await get(port, "/metrics", "127.0.0.1", login));
  rows.push([
    `/metrics, ${RECORDS} records: first read / unchanged store (median of 20)`,
    `${first.toFixed(0)} / ${median(again).toFixed(1)} ms`,
  ]);

  const healthz: number[] = [];
  const until = performance.now() + LOAD_SECONDS * 1000;
  await Promise.all([
    loop(4, until, () => get(port, "/metrics", "127.0.0.2", login)),
    loop(1, until, async () => healthz.push(await get(port, "/healthz", "127.0.0.3"))),
  ]);
  rows.push([
    `/healthz while 4 scrapers loop on /metrics (${healthz.length} requests)`,
    `median ${median(healthz).toFixed(1)} ms, p99 ${p99(healthz).toFixed(1)} ms`,
  ]);

  const page: number[] = [];
  const guessUntil = performance.now() + LOAD_SECONDS * 1000;
  checks = 0;
  let guesses = 0;
  await Promise.all([
    loop(20, guessUntil, (i) => {
      guesses++;
      return get(port, "/", `127.0.2.${i + 1}`, {
        Authorization: `Basic ${Buffer.from(`admin:guess${guesses}`).toString("base64")}`,
      });
    }),
    loop(1, guessUntil, async () => page.push(await get(port, "/", "127.0.0.4", login))),
  ]);
  rows.push([
    `logged-in page while 20 addresses guess (${guesses} guesses, ${checks} scrypt runs)`,
    `median ${median(page).toFixed(1)} ms, p99 ${p99(page).toFixed(1)} ms`,
  ]);
  printTable("ams-web under load (in process, loopback)", ["what", "figure"], rows);
  server.closeAllConnections();
  server.close();
} finally {
  fs.rmSync(home, { recursive: true, force: true });
}

const FLEET = 10;
const fleetHome = fs.mkdtempSync(path.join(os.tmpdir(), "ams-bench-web-fleet-"));
try {
  const paths = amsPaths(fleetHome);
  const names = Array.from({ length: FLEET }, (_, i) => `bench-${String(i).padStart(2, "0")}`);
  const remotes = names.slice(1).map((name) => ({ name, host: `${name}.example.org`, user: "ams" }));
  fs.mkdirSync(paths.remoteDir, { recursive: true });
  fs.writeFileSync(paths.config, JSON.stringify({ server_id: names[0], remotes }));
  const shapes = await captureRealShapes();
  const now = Date.now();
  for (const [i, name] of names.entries())
    fs.writeFileSync(
      i === 0 ? paths.store : path.join(paths.remoteDir, `${name}_logs.json`),
      formatJsonArray(realRecords(shapes, name, now, 7, i)),
    );
  const config = parseConfig(JSON.parse(fs.readFileSync(paths.config, "utf8")), paths.config);
  const log = jobLogger(paths.logsDir, "web");
  const server = createWebServer({
    publicDir: paths.publicDir,
    log,
    routes: amsRoutes(paths, config),
    beforeFile: pagesOnRequest({ paths, config, log }),
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const twenty = async (target: string) => {
    const times: number[] = [];
    for (let i = 0; i < 20; i++) times.push(await get(port, target));
    return median(times);
  };
  const rows: (string | number)[][] = [];
  const firstMetrics = await get(port, "/metrics");
  rows.push([
    `/metrics: first read / unchanged stores (median of 20)`,
    `${firstMetrics.toFixed(0)} / ${(await twenty("/metrics")).toFixed(1)} ms`,
  ]);
  const drawn = await get(port, "/");
  rows.push([
    "index page: data changed since the last drawing (drawn first) / unchanged (median of 20)",
    `${drawn.toFixed(0)} / ${(await twenty("/")).toFixed(1)} ms`,
  ]);
  printTable(`ams-web, ${FLEET} servers × 7 days (in process, loopback)`, ["what", "figure"], rows);
  server.closeAllConnections();
  server.close();
} finally {
  fs.rmSync(fleetHome, { recursive: true, force: true });
}
