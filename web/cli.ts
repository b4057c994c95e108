#!/usr/bin/env node
import type { AddressInfo } from "node:net";
import os from "node:os";
import { text } from "node:stream/consumers";
import { openJob } from "../config/job.js";
import { amsProgram, runProgram } from "../lib/cli.js";
import { UsageError } from "../lib/usage-error.js";
import { hashPassword } from "./auth.js";
import { pagesOnRequest } from "./pages-on-request.js";
import { amsRoutes } from "./routes.js";
import { createWebServer } from "./server.js";

const WILDCARD = new Set(["0.0.0.0", "::", ""]);
const isLoopback = (host: string) => host === "localhost" || host === "::1" || /^127\./.test(host);

/** The URLs a browser can use: every local address when listening on all of them. */
function urls(host: string, port: number): string[] {
  const hosts = WILDCARD.has(host)
    ? Object.values(os.networkInterfaces())
        .flat()
        .filter((a) => a && (host !== "0.0.0.0" || a.family === "IPv4"))
        .map((a) => a!.address)
    : [host];
  return hosts.map((h) => `http://${h.includes(":") ? `[${h}]` : h}:${port}/`);
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port: expected 0 to 65535, got "${value}"`);
  return port;
}

const program = amsProgram("ams-web", "Serve the dashboard (AMS_HOME/public) over HTTP.")
  .option("--host <address>", "address to listen on (default: config web.host, 127.0.0.1)")
  .option("--port <port>", "port to listen on, 0 for any free one (default: config web.port, 5050)")
  .action(async (opts: { home?: string; host?: string; port?: string }) => {
    const { paths, config, log } = await openJob("web", opts.home);
    const host = opts.host ?? config.web.host;
    const port = opts.port === undefined ? config.web.port : parsePort(opts.port);
    if (!isLoopback(host) && !config.web.auth) {
      log.warn(
        `listening on ${host} without authentication: anyone who can reach this port sees the dashboard (set web.auth)`,
      );
    }
    const server = createWebServer({
      publicDir: paths.publicDir,
      log,
      auth: config.web.auth,
      routes: amsRoutes(paths, config),
      limits: config.web,
      beforeFile: config.web.draw_on_request ? pagesOnRequest({ paths, config, log }) : undefined,
    });
    // Handlers first: whoever reads the printed URL may send SIGTERM at once.
    const stopped = new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        log.info(`${signal}: shutting down`);
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 2000).unref();
      };
      process.once("SIGTERM", stop);
      process.once("SIGINT", stop);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, resolve);
    });
    const actual = (server.address() as AddressInfo).port;
    log.info(`listening on ${host}:${actual}`);
    process.stdout.write(
      `ams-web: serving ${paths.publicDir}\n${urls(host, actual)
        .map((u) => `  ${u}\n`)
        .join("")}`,
    );
    await stopped;
  });

program
  .command("hash-password")
  .description("read a password on stdin, print the hash for web.auth.password_hash")
  .action(async () => {
    const password = (await text(process.stdin)).replace(/\r?\n$/, "");
    if (password === "") throw new UsageError("empty password on stdin");
    process.stdout.write(`${await hashPassword(password)}\n`);
  });

void runProgram(program);
