// Alert mail is at-least-once: a mail the server took but answered too late is sent again, with the
// same Message-ID, so a mail client can drop the duplicate. A write that fails on a full disk (a real
// tmpfs, mounted by the test) leaves no temporary file behind and the old file as it was.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { amsPaths } from "../../lib/paths.js";
import { isoLocal } from "../../lib/time.js";
import { formatJsonArray } from "../../storage/locked-file.js";
import type { Sample } from "../../storage/sample.js";
import { appendSamples } from "../../storage/store.js";
import { runCli, tempHome, writeConfig } from "../helpers.js";
import { startSmtp } from "../support/smtp.js";

const T0 = new Date("2026-11-25T12:00:00Z").getTime();
const at = (minute: number) => new Date(T0 + minute * 60_000);

describe("alert mail", () => {
  test("a mail answered after email.timeout is sent again with the same Message-ID", async () => {
    const smtp = await startSmtp({ delayFirstAnswerMs: 2500 });
    try {
      const home = tempHome();
      writeConfig(home, {
        server_id: "web-1",
        email: { host: "127.0.0.1", port: smtp.port, starttls: false, timeout: 1, to: ["admin@example.org"] },
      });
      await appendSamples(
        amsPaths(home).store,
        [0, 5, 10].map((m) => ({
          server_id: "web-1",
          metric_type: "CPU",
          timestamp: isoLocal(at(m)),
          value: 97,
          unit: "%",
        })),
      );
      const check = (minute: number) =>
        runCli("ams-alert", ["--home", home], { env: { AMS_NOW: at(minute).toISOString() } });
      const late = await check(10);
      expect(late.exitCode).toBe(1);
      expect(late.stderr).toContain("email not delivered (1 queued, retried next run)");
      expect(smtp.received).toHaveLength(1); // the server has it all the same
      const retry = await check(11);
      expect([retry.exitCode, retry.stderr]).toEqual([0, ""]);
      expect(smtp.received).toHaveLength(2);
      const [first, second] = smtp.received.map((r) => r.mail.messageId);
      expect(first).toMatch(/^<\d{8}T\d{6}Z\.[0-9a-f]{12}@ams>$/);
      expect(second).toBe(first);
    } finally {
      await smtp.close();
    }
  });
});

describe("a full disk", () => {
  const mounts: string[] = [];
  afterEach(() => {
    for (const dir of mounts.splice(0)) execFileSync("umount", [dir]);
  });

  function tmpfs(dir: string, size: string): void {
    fs.mkdirSync(dir, { recursive: true });
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir]);
    mounts.push(dir);
  }

  /** Fills the file system holding `dir` to the last byte. */
  function fill(dir: string): void {
    const chunk = Buffer.alloc(64 * 1024, 1);
    const fd = fs.openSync(path.join(dir, "filler"), "w");
    try {
      for (;;) fs.writeSync(fd, chunk);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
    } finally {
      fs.closeSync(fd);
    }
  }

  const leftovers = (dir: string) =>
    (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => /\.tmp/.test(f));

  /** Records whose values do not compress much, so that a backup of them is large. */
  const records = (count: number): Sample[] =>
    Array.from({ length: count }, (_, i) => ({
      server_id: "web-1",
      metric_type: "CPU",
      timestamp: new Date(T0 + i * 10_000).toISOString(),
      value: Math.round(Math.sin(i * 7.3) * 1e9) / 1e4,
      unit: "%",
    }));

  test("failed store and state writes remove their temporary files and keep the old files", async () => {
    const home = tempHome();
    writeConfig(home, { server_id: "web-1" });
    const storage = path.dirname(amsPaths(home).store);
    tmpfs(storage, "4m");
    const store = amsPaths(home).store;
    fs.writeFileSync(store, formatJsonArray(records(25_000))); // about 2.5 MB: no room for a second copy
    const before = fs.readFileSync(store);
    const full = await runCli("ams-sensor", ["ram", "--home", home]);
    expect(full.exitCode).toBe(1);
    expect(full.stderr).toContain("ENOSPC");
    expect(leftovers(storage)).toEqual([]);
    expect(fs.readFileSync(store).equals(before)).toBe(true);

    fs.mkdirSync(amsPaths(home).stateDir, { recursive: true });
    fill(storage);
    const state = await runCli("ams-sensor", ["cpu", "processes", "--home", home]);
    expect(state.exitCode).toBe(1);
    expect(state.stderr).toContain("ENOSPC");
    expect(leftovers(storage)).toEqual([]);
    expect(fs.readFileSync(store).equals(before)).toBe(true);
  });

  test("a backup that does not fit removes its temporary file", async () => {
    const home = tempHome();
    writeConfig(home, { server_id: "web-1" });
    const paths = amsPaths(home);
    fs.mkdirSync(path.dirname(paths.store), { recursive: true });
    fs.writeFileSync(paths.store, formatJsonArray(records(20_000)));
    tmpfs(paths.backupsDir, "128k");
    const run = await runCli("ams-backup", ["--home", home]);
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain("ENOSPC");
    expect(leftovers(paths.backupsDir)).toEqual([]);
  });
});
