import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { parseConfig } from "../lib/config.js";
import { installDir } from "../lib/paths.js";
import { verifyPassword } from "../web/auth.js";
import { tempHome, writeConfig } from "./helpers.js";

const amsWeb = (args: string[], input?: string) =>
  execa(process.execPath, [path.join(installDir, "dist", "ams-web.js"), ...args], { reject: false, timeout: 30_000, ...(input === undefined ? {} : { input }) });

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
    await new Promise<void>((resolve) => web.stdout!.on("data", (chunk: Buffer) => chunk.toString().includes("http://") && resolve()));
    web.kill("SIGTERM");
    const result = await web;
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain("ams-web: warning: listening on 0.0.0.0 without authentication");
    expect(fs.readFileSync(path.join(home, "logs", "web.log"), "utf8")).toContain("SIGTERM: shutting down");
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
    expect(config.web).toEqual({ host: "127.0.0.1", port: 5050 });
    expect(config.graphs).toEqual({ refresh: 300, silent_after: 900 });
    expect(() => parseConfig({ web: { auth: { user: "admin", password_hash: "hunter2" } } }, "cfg")).toThrow("web.auth.password_hash: expected the output of `ams-web hash-password`");
    expect(() => parseConfig({ graphs: { refresh: "soon" } }, "cfg")).toThrow("graphs.refresh");
  });
});
