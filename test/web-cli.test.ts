import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { parseConfig } from "../config/ams-config.js";
import { verifyPassword } from "../web/auth.js";
import { amsPaths, installDir } from "../lib/paths.js";
import { isoLocal } from "../lib/time.js";
import type { Sample } from "../storage/sample.js";
import { appendSamples } from "../storage/store.js";
import { runCli, tempHome, writeConfig } from "./helpers.js";

const amsWeb = (args: string[], input?: string) =>
  execa(process.execPath, [path.join(installDir, "dist", "ams-web.js"), ...args], {
    reject: false,
    timeout: 30_000,
    ...(input === undefined ? {} : { input }),
  });

describe("ams-web command", () => {
  test("hash-password turns stdin into a hash that web.auth accepts", async () => {
    const run = await amsWeb(["hash-password"], "s3cret pass\n");
    expect(run.exitCode).toBe(0);
    const hash = run.stdout.trim();
    expect(await verifyPassword("s3cret pass", hash)).toBe(true);
    expect(parseConfig({ web: { auth: { user: "admin", password_hash: hash } } }, "cfg").web.auth?.user).toBe("admin");
    expect((await amsWeb(["hash-password"], "")).exitCode).toBe(2);
  });

  test("warns when it listens beyond loopback without authentication, and stops cleanly on SIGTERM", async () => {
    const home = tempHome();
    const web = amsWeb(["--home", home, "--host", "0.0.0.0", "--port", "0"]);
    await new Promise<void>((resolve) =>
      web.stdout.on("data", (chunk: Buffer) => chunk.toString().includes("http://") && resolve()),
    );
    web.kill("SIGTERM");
    const result = await web;
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain("ams-web: warning: listening on 0.0.0.0 without authentication");
    expect(fs.readFileSync(path.join(home, "logs", "web.log"), "utf8")).toContain("SIGTERM: shutting down");
  });

  test("GET /metrics: every server's latest values and the alerts firing, in a form promtool accepts", async () => {
    const home = tempHome();
    writeConfig(home, { server_id: "web-1", remotes: [{ name: "db", host: "db.example.org", user: "ams" }] });
    const now = Date.now();
    const cpu = (server: string, minutesAgo: number, value: number): Sample => ({
      server_id: server,
      metric_type: "CPU",
      timestamp: isoLocal(new Date(now - minutesAgo * 60_000)),
      value,
      unit: "%",
    });
    // A server name that needs escaping in a label value (a remote copy may only speak for its own name).
    await appendSamples(amsPaths(home).store, [
      ...[20, 15, 10, 5, 0].map((m) => cpu("web-1", m, 99)),
      cpu('db "main" \\ 1', 1, 12.5),
    ]);
    fs.mkdirSync(amsPaths(home).remoteDir, { recursive: true });
    fs.writeFileSync(path.join(amsPaths(home).remoteDir, "db_logs.json"), JSON.stringify([cpu("db", 1, 7.5)]));
    expect((await runCli("ams-alert", ["check", "--home", home])).stdout).toContain("FIRED [warning] cpu_high/web-1");

    const web = amsWeb(["--home", home, "--port", "0"]);
    try {
      const url = await new Promise<string>((resolve) =>
        web.stdout.on("data", (chunk: Buffer) => {
          const m = /http:\/\/127\.0\.0\.1:\d+\//.exec(chunk.toString());
          if (m) resolve(m[0]);
        }),
      );
      const res = await fetch(`${url}metrics`);
      expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
      const body = await res.text();
      expect(body).toContain('ams_cpu_percent{server="web-1"} 99\n');
      expect(body).toContain('ams_cpu_percent{server="db \\"main\\" \\\\ 1"} 12.5\n');
      expect(body).toContain('ams_cpu_percent{server="db"} 7.5\n');
      expect(body).toMatch(/ams_alert_firing\{[^}]*rule="cpu_high"[^}]*server="web-1"[^}]*\} 1\n/);
      const promtool = await execa("promtool", ["check", "metrics"], { input: body, reject: false });
      expect(`${promtool.stdout}${promtool.stderr}`).toBe(""); // no lint remark either (they alone make it exit 3)
      expect(promtool.exitCode).toBe(0);
    } finally {
      web.kill("SIGTERM");
      await web;
    }
  });

  test("bad port and bad config are explained", async () => {
    const home = tempHome();
    const badFlag = await amsWeb(["--home", home, "--port", "70000"]);
    expect(badFlag.exitCode).toBe(2);
    expect(badFlag.stderr).toContain('--port: expected 0 to 65535, got "70000"');
    writeConfig(home, { web: { port: 70000 } });
    const badConfig = await amsWeb(["--home", home]);
    expect(badConfig.exitCode).toBe(1);
    expect(badConfig.stderr).toContain("web.port");
  });

  test("config: defaults, and a password in clear is refused", () => {
    const config = parseConfig({}, "cfg");
    expect(config.web).toEqual({
      host: "127.0.0.1",
      port: 5050,
      draw_on_request: true,
      max_connections: 256,
      max_connections_per_client: 32,
      headers_timeout: 10,
      request_timeout: 30,
      keep_alive_timeout: 5,
    });
    expect(config.graphs).toEqual({ refresh: 300 });
    expect(() => parseConfig({ web: { auth: { user: "admin", password_hash: "hunter2" } } }, "cfg")).toThrow(
      "web.auth.password_hash: expected the output of `ams-web hash-password`",
    );
    expect(() => parseConfig({ graphs: { refresh: "soon" } }, "cfg")).toThrow("graphs.refresh");
    expect(() => parseConfig({ web: { headers_timeout: "1m" } }, "cfg")).toThrow(
      "web.headers_timeout: must be at most request_timeout",
    );
    expect(() => parseConfig({ web: { max_connections: 16 } }, "cfg")).toThrow(
      "web.max_connections_per_client: must be at most max_connections",
    );
  });
});
