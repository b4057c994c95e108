import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import net from "node:net";
import path from "node:path";
import { jest } from "@jest/globals";
import { execa } from "execa";
import { parseConfig } from "../../config/ams-config.js";
import { jobLogger } from "../../lib/log.js";
import { amsPaths, installDir } from "../../lib/paths.js";
import { isoLocal } from "../../lib/time.js";
import type { Sample } from "../../storage/sample.js";
import { appendSamples } from "../../storage/store.js";
import { hashPassword, verifyPassword } from "../../web/auth.js";
import { amsRoutes } from "../../web/routes.js";
import { createWebServer, type WebServerOptions } from "../../web/server.js";
import { tempHome, writeConfig } from "../helpers.js";

// ams-web under attack: a flood of half-sent requests, password guessing, scrapers. Every client
// address is on loopback (127.0.0.0/8); behaviour is asserted (status codes, scrypt runs, store
// reads), never timings, except that a flood must end within its configured timeouts.
jest.setTimeout(90_000);

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request from `from` (a loopback address); fails after `timeoutMs` without an answer. */
function get(port: number, target: string, options: { from?: string; headers?: object; timeoutMs?: number } = {}) {
  return new Promise<Answer>((resolve, reject) => {
    const req = http.get(
      {
        host: "127.0.0.1",
        port,
        path: target,
        localAddress: options.from ?? "127.0.0.1",
        headers: { ...options.headers },
        agent: false,
        timeout: options.timeoutMs ?? 10_000,
      },
      (res) => {
        let body = "";
        res.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
        res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${options.timeoutMs ?? 10_000} ms`)));
    req.on("error", reject);
  });
}

function publicHome(): { home: string; publicDir: string } {
  const home = tempHome();
  const publicDir = path.join(home, "public");
  fs.mkdirSync(publicDir, { recursive: true });
  fs.writeFileSync(path.join(publicDir, "index.html"), "<!doctype html><title>AMS</title>");
  return { home, publicDir };
}

async function listen(options: Partial<WebServerOptions> & { home: string; publicDir: string }) {
  const server = createWebServer({ log: jobLogger(path.join(options.home, "logs"), "web"), ...options });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

const close = (server: http.Server) => {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(resolve));
};

test("1,100 idle half-sent requests with ulimit -n 1024 do not take /healthz down; they are dropped within the header timeout", async () => {
  const { home } = publicHome();
  writeConfig(home, { server_id: "web-1" }); // defaults: 32 connections per client, headers within 10 s
  // The server runs with the file limit of a default systemd service or login shell.
  const web = execa(
    "prlimit",
    [
      "--nofile=1024:1024",
      process.execPath,
      path.join(installDir, "dist", "ams-web.js"),
      "--home",
      home,
      "--port",
      "0",
    ],
    {
      reject: false,
    },
  );
  const flood: net.Socket[] = [];
  try {
    const port = await new Promise<number>((resolve) =>
      web.stdout.on("data", (chunk: Buffer) => {
        const m = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(chunk.toString());
        if (m) resolve(Number(m[1]));
      }),
    );
    let closed = 0;
    await Promise.all(
      Array.from(
        { length: 1100 },
        () =>
          new Promise<void>((resolve) => {
            const socket = net.connect({ port, host: "127.0.0.1", localAddress: "127.0.0.1" });
            flood.push(socket);
            socket.resume(); // read what the server says (a 408), so its close is seen
            socket.on("connect", () => {
              socket.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
              resolve();
            });
            socket.on("error", () => resolve());
            socket.on("close", () => {
              closed++;
              resolve();
            });
          }),
      ),
    );
    // Another client is answered at once while the flood is held open...
    expect((await get(port, "/healthz", { from: "127.0.0.2", timeoutMs: 5000 })).status).toBe(200);
    // ...and the flood itself is dropped: past the per-client cap at once, the rest at the 10 s header timeout.
    for (let i = 0; i < 250 && closed < 1100; i++) await new Promise((r) => setTimeout(r, 100));
    expect(closed).toBe(1100);
    expect((await get(port, "/healthz", { timeoutMs: 5000 })).status).toBe(200);
  } finally {
    for (const socket of flood) socket.destroy();
    web.kill("SIGTERM");
    await web;
  }
});

describe("password guessing", () => {
  const basic = (password: string) => ({
    Authorization: `Basic ${Buffer.from(`admin:${password}`).toString("base64")}`,
  });
  let server: http.Server;
  let port: number;
  let checks = 0;
  let running = 0;
  let mostAtOnce = 0;
  /** The real scrypt check, counted. */
  const verify = async (password: string, stored: string) => {
    checks++;
    mostAtOnce = Math.max(mostAtOnce, ++running);
    try {
      return await verifyPassword(password, stored);
    } finally {
      running--;
    }
  };

  beforeAll(async () => {
    const { home, publicDir } = publicHome();
    const auth = { user: "admin", password_hash: await hashPassword("correct horse") };
    ({ server, port } = await listen({ home, publicDir, auth, authOptions: { verify } }));
  });
  afterAll(() => close(server));

  test("after 5 failed logins a client gets 429 without any password check, and the right user is not locked out", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++)
      statuses.push((await get(port, "/", { from: "127.0.0.10", headers: basic(`guess${i}`) })).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401]);
    for (let i = 0; i < 50; i++) {
      const answer = await get(port, "/", { from: "127.0.0.10", headers: basic(`more${i}`) });
      expect(answer.status).toBe(429);
      expect(Number(answer.headers["retry-after"])).toBeGreaterThan(0);
    }
    expect(checks).toBe(5);
    // The right password is not checked either from a locked-out client: it must wait too.
    expect((await get(port, "/", { from: "127.0.0.10", headers: basic("correct horse") })).status).toBe(429);
    expect(checks).toBe(5);
    // Another client logs in; once verified its credentials cost no check, even from the locked address.
    expect((await get(port, "/", { from: "127.0.0.11", headers: basic("correct horse") })).status).toBe(200);
    expect(checks).toBe(6);
    for (const from of ["127.0.0.11", "127.0.0.10"])
      expect((await get(port, "/", { from, headers: basic("correct horse") })).status).toBe(200);
    expect(checks).toBe(6);
  });

  test("guesses from many addresses at once run one scrypt at a time, past 8 queued get 503, and a logged-in page is served", async () => {
    const before = checks;
    const guesses = Array.from({ length: 40 }, (_, i) =>
      get(port, "/", { from: `127.0.1.${i + 1}`, headers: basic(`parallel${i}`) }),
    );
    // While they queue, the logged-in user's page is served with no check of its own.
    const page = await get(port, "/", { from: "127.0.0.11", headers: basic("correct horse") });
    expect(page.status).toBe(200);
    expect(page.body).toContain("<title>AMS</title>");
    const statuses = (await Promise.all(guesses)).map((a) => a.status);
    expect(mostAtOnce).toBe(1);
    expect(statuses.filter((s) => s === 401).length).toBe(checks - before);
    expect(statuses.filter((s) => s === 503).length).toBeGreaterThan(0);
    expect(statuses.every((s) => s === 401 || s === 503)).toBe(true);
  });
});

test("/metrics reads the stores again only when one changed, and follows an append at once", async () => {
  const { home, publicDir } = publicHome();
  const config = parseConfig(
    { server_id: "web-1", remotes: [{ name: "db", host: "db.example.org", user: "ams" }] },
    "cfg",
  );
  const paths = amsPaths(home);
  const cpu = (minute: number, value: number): Sample => ({
    server_id: "web-1",
    metric_type: "CPU",
    timestamp: isoLocal(new Date(Date.UTC(2026, 10, 25, 12, minute))),
    value,
    unit: "%",
  });
  await appendSamples(paths.store, Array.from({ length: 1000 }, (_, i) => cpu(i % 60, 10)).concat(cpu(59, 11.5)));
  const { server, port } = await listen({ home, publicDir, routes: amsRoutes(paths, config) });
  const scrape = async () => {
    const body = (await get(port, "/metrics")).body;
    return {
      cpu: /^ams_cpu_percent\{server="web-1"\} (\S+)$/m.exec(body)?.[1],
      reads: Number(/^ams_web_store_reads_total (\d+)$/m.exec(body)?.[1]),
    };
  };
  try {
    for (let i = 0; i < 5; i++) expect(await scrape()).toEqual({ cpu: "11.5", reads: 1 });

    await appendSamples(paths.store, [
      { ...cpu(59, 0), timestamp: isoLocal(new Date(Date.UTC(2026, 10, 25, 13, 0))), value: 42 },
    ]);
    expect(await scrape()).toEqual({ cpu: "42", reads: 2 });
    expect(await scrape()).toEqual({ cpu: "42", reads: 2 });

    // Rewritten in place, same size, mtime set back: the ctime still tells.
    const { atime, mtime } = fs.statSync(paths.store);
    fs.writeFileSync(paths.store, fs.readFileSync(paths.store, "utf8").replace('"value":42,', '"value":43,'));
    fs.utimesSync(paths.store, atime, mtime);
    expect(await scrape()).toEqual({ cpu: "43", reads: 3 });

    // A remote copy appearing is a change too.
    fs.mkdirSync(paths.remoteDir, { recursive: true });
    fs.writeFileSync(path.join(paths.remoteDir, "db_logs.json"), JSON.stringify([{ ...cpu(1, 5), server_id: "db" }]));
    const body = (await get(port, "/metrics")).body;
    expect(body).toContain('ams_cpu_percent{server="db"} 5\n');
    expect(body).toContain("ams_web_store_reads_total 4\n");
  } finally {
    await close(server);
  }
});
