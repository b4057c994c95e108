import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { processIdentity, stillRunning } from "../lib/process-identity.js";
import { acquireRunLock } from "../lib/run-lock.js";
import { tempDir } from "./helpers.js";

const lockIn = () => path.join(tempDir("ams-lock-"), "state", "job.run.lock");

/** The identity of a process that has ended. */
async function endedProcess() {
  const child = execa("sleep", ["10"]);
  const identity = processIdentity(child.pid!)!;
  child.kill("SIGKILL");
  await child.catch(() => undefined);
  return identity;
}

describe("run lock", () => {
  test("one holder at a time; released, it can be taken again", () => {
    const file = lockIn();
    const first = acquireRunLock(file, new Date("2026-11-25T12:00:00Z"));
    expect(first.acquired).toBe(true);
    const second = acquireRunLock(file);
    expect(second).toEqual({
      acquired: false,
      holder: expect.objectContaining({ pid: process.pid, since: "2026-11-25T12:00:00.000Z" }),
    });
    if (first.acquired) first.release();
    expect(fs.existsSync(file)).toBe(false);
    expect(acquireRunLock(file).acquired).toBe(true);
    expect(fs.readdirSync(path.dirname(file))).toEqual(["job.run.lock"]);
  });

  test("a holder that died, a reused PID or a lock from before a reboot does not block", async () => {
    const ended = await endedProcess();
    expect(stillRunning(ended)).toBe(false);
    const me = processIdentity("self")!;
    for (const holder of [ended, { ...me, start: "1" }, { ...me, boot: "an-earlier-boot" }]) {
      const file = lockIn();
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, JSON.stringify({ ...holder, since: "2026-11-25T11:00:00.000Z" }));
      const taken = acquireRunLock(file);
      expect(taken.acquired).toBe(true);
      expect(JSON.parse(fs.readFileSync(file, "utf8"))).toMatchObject({ pid: process.pid, start: me.start });
      expect(fs.readdirSync(path.dirname(file))).toEqual(["job.run.lock"]);
    }
  });

  test("a live holder keeps it", () => {
    const file = lockIn();
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const parent = processIdentity(process.ppid)!;
    fs.writeFileSync(file, JSON.stringify({ ...parent, since: "2026-11-25T11:00:00.000Z" }));
    const refused = acquireRunLock(file);
    expect(refused).toEqual({ acquired: false, holder: expect.objectContaining({ pid: process.ppid }) });
    expect(JSON.parse(fs.readFileSync(file, "utf8")).pid).toBe(process.ppid);
  });
});
