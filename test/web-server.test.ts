import fs from "node:fs";
import type http from "node:http";
import net, { type AddressInfo } from "node:net";
import path from "node:path";
import { hashPassword, verifyPassword } from "../web/auth.js";
import { healthzRoute } from "../web/routes.js";
import { clientOf, createWebServer, refusePath, type WebServerOptions } from "../web/server.js";
import { jobLogger } from "../lib/log.js";
import { tempHome } from "./helpers.js";

const SECRET = "SECRET-STORE-CONTENT";

/** One request written byte for byte, so that no client library normalises the path. */
function rawRequest(
  port: number,
  target: string,
  headers: Record<string, string> = {},
  method = "GET",
): Promise<{ status: number; head: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    let data = "";
    socket.on("data", (chunk) => (data += chunk.toString("utf8")));
    socket.on("error", reject);
    socket.on("end", () => {
      const [head = "", body = ""] = data.split("\r\n\r\n");
      resolve({ status: Number(head.split(" ")[1]), head, body });
    });
    const lines = [
      `${method} ${target} HTTP/1.1`,
      "Host: 127.0.0.1",
      "Connection: close",
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    ];
    socket.write(`${lines.join("\r\n")}\r\n\r\n`);
  });
}

async function start(
  options: Partial<WebServerOptions> = {},
): Promise<{ server: http.Server; port: number; home: string }> {
  const home = tempHome();
  const publicDir = path.join(home, "public");
  fs.mkdirSync(path.join(publicDir, ".git"), { recursive: true });
  fs.mkdirSync(path.join(home, "storage"), { recursive: true });
  fs.writeFileSync(path.join(publicDir, "index.html"), "<!doctype html><title>AMS</title>");
  fs.writeFileSync(path.join(publicDir, ".git", "config"), SECRET);
  fs.writeFileSync(path.join(publicDir, ".index.html.tmp-1"), SECRET);
  fs.writeFileSync(path.join(home, "storage", "system_logs.json"), SECRET);
  const server = createWebServer({ publicDir, log: jobLogger(path.join(home, "logs"), "web"), ...options });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as AddressInfo).port, home };
}

const stop = (server: http.Server) => new Promise((resolve) => server.close(resolve));

describe("ams-web server", () => {
  let server: http.Server;
  let port: number;
  let home: string;
  beforeAll(async () => {
    ({ server, port, home } = await start({
      routes: [healthzRoute, { method: "GET", path: "/metrics", handler: (_req, res) => void res.end("up 1\n") }],
    }));
  });
  afterAll(() => stop(server));

  test("serves public/ with security headers, and logs the request", async () => {
    const res = await rawRequest(port, "/");
    expect(res.status).toBe(200);
    expect(res.body).toContain("<title>AMS</title>");
    expect(res.head).toMatch(
      /content-security-policy: default-src 'none'; img-src 'self'; style-src 'self'.*frame-ancestors 'none'/i,
    );
    expect(res.head).toMatch(/x-content-type-options: nosniff/i);
    expect(res.head).toMatch(/x-frame-options: DENY/i);
    expect(res.head).toMatch(/referrer-policy: no-referrer/i);
    expect(fs.readFileSync(path.join(home, "logs", "web.log"), "utf8")).toMatch(/INFO 127\.0\.0\.1 GET "\/" 200/);
  });

  test.each([
    "/../storage/system_logs.json",
    "/%2e%2e/storage/system_logs.json",
    "/%2E%2E/%2e%2e/storage/system_logs.json",
    "/..%2fstorage%2fsystem_logs.json",
    "/charts/..%5c..%5cstorage%5csystem_logs.json",
    "/.git/config",
    "/%2egit/config",
    "/.index.html.tmp-1",
    "/index.html%00.svg",
    "/%zz",
    "http://127.0.0.1/../storage/system_logs.json",
  ])("%s is refused", async (target) => {
    const res = await rawRequest(port, target);
    expect([400, 404]).toContain(res.status);
    expect(res.body).not.toContain(SECRET);
  });

  test("the routes table, methods", async () => {
    const metrics = await rawRequest(port, "/metrics");
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain("up 1\n");
    expect((await rawRequest(port, "/", {}, "POST")).status).toBe(405);
    expect((await rawRequest(port, "/missing.html")).status).toBe(404);
  });

  test("refusePath on its own", () => {
    expect(refusePath("/servers/web-1.html?x=1")).toBeUndefined();
    expect(refusePath("/charts/servers/~22~3E/CPU-24h.svg")).toBeUndefined();
    expect(refusePath("/a/%2e%2e/b")).toMatchObject({ status: 400 });
    expect(refusePath("/.env")).toMatchObject({ status: 404 });
  });
});

test("a client, for the per-client caps, is an IPv4 address or an IPv6 /64", () => {
  expect(clientOf("::ffff:10.1.2.3")).toBe("10.1.2.3");
  expect(clientOf("2001:db8::1")).toBe("2001:db8:0:0::/64");
  expect(clientOf("2001:0db8:0000:0000:ffff::2")).toBe(clientOf("2001:db8::1"));
  expect(clientOf("2001:db8:0:1::1")).not.toBe(clientOf("2001:db8::1"));
  expect(clientOf("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
  expect(clientOf(undefined)).toBe("?");
});

describe("basic authentication", () => {
  let server: http.Server;
  let port: number;
  const basic = (user: string, password: string) => ({
    Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`,
  });
  beforeAll(async () => {
    ({ server, port } = await start({ auth: { user: "admin", password_hash: await hashPassword("correct horse") } }));
  });
  afterAll(() => stop(server));

  test("no or wrong credentials are refused, the right ones accepted", async () => {
    const none = await rawRequest(port, "/");
    expect(none.status).toBe(401);
    expect(none.head).toMatch(/www-authenticate: Basic realm="AMS"/i);
    expect((await rawRequest(port, "/", basic("admin", "wrong"))).status).toBe(401);
    expect((await rawRequest(port, "/", basic("root", "correct horse"))).status).toBe(401);
    expect((await rawRequest(port, "/", { Authorization: "Bearer x" })).status).toBe(401);
    expect((await rawRequest(port, "/", basic("admin", "correct horse"))).status).toBe(200);
    expect((await rawRequest(port, "/", basic("admin", "correct horse"))).status).toBe(200);
  });

  test("the health check needs no credentials; traversal is refused before authentication", async () => {
    expect((await rawRequest(port, "/healthz")).status).toBe(200);
    expect((await rawRequest(port, "/../storage/system_logs.json", basic("admin", "correct horse"))).status).toBe(400);
  });

  test("password hashes are salted and verified", async () => {
    const a = await hashPassword("pw");
    expect(a).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(a).not.toBe(await hashPassword("pw"));
    expect(await verifyPassword("pw", a)).toBe(true);
    expect(await verifyPassword("pw2", a)).toBe(false);
  });
});
