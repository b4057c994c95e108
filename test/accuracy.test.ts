// Each sensor against the reference tool on the same machine (CI installs procps, sysstat, stress-ng).
import fs from "node:fs";
import { execa } from "execa";
import type { Sample } from "../storage/sample.js";
import { runCli, tempHome } from "./helpers.js";
import { startSshd } from "./support/sshd.js";

async function measure(home: string, sensor: string): Promise<Sample[]> {
  const run = await runCli("ams-sensor", [sensor, "--json", "--home", home]);
  expect(run.stderr).toBe("");
  return JSON.parse(run.stdout) as Sample[];
}

const tool = async (command: string, args: string[]) => (await execa(command, args, { env: { LC_ALL: "C" } })).stdout;

test("RAM within 1 point of free's (total − available) / total", async () => {
  const [ours] = await measure(tempHome(), "ram");
  const mem = (await tool("free", ["-b"]))
    .split("\n")
    .find((l) => l.startsWith("Mem:"))!
    .trim()
    .split(/\s+/);
  const [total, available] = [Number(mem[1]), Number(mem[6])];
  expect(Math.abs(ours!.value - ((total - available) / total) * 100)).toBeLessThanOrEqual(1);
});

test("Disk equals df's Use% for every mount both report, / included", async () => {
  const ours = await measure(tempHome(), "disk");
  const df = new Map(
    (await tool("df", ["-P"]))
      .split("\n")
      .slice(1)
      .map((line) => {
        const fields = line.trim().split(/\s+/);
        return [fields.slice(5).join(" "), Number(fields[4]!.replace("%", ""))] as const;
      }),
  );
  const compared = ours.filter((s) => df.has(s.labels!.mount!));
  expect(compared.map((s) => s.labels!.mount)).toContain("/");
  for (const sample of compared)
    expect([sample.labels!.mount, sample.value]).toEqual([sample.labels!.mount, df.get(sample.labels!.mount!)]);
});

test("process count within 5 of ps -e", async () => {
  const [ours] = await measure(tempHome(), "processes");
  const ps = (await tool("ps", ["-e", "--no-headers"])).split("\n").length;
  expect(Math.abs(ours!.value - ps)).toBeLessThanOrEqual(5);
  expect((ours!.details!.top_cpu as unknown[]).length).toBe(5);
});

describe("users", () => {
  const whoLines = async () => (await tool("who", [])).split("\n").filter(Boolean);

  test("with nobody logged in, equal to who's count", async () => {
    const [ours] = await measure(tempHome(), "users");
    expect(ours!.value).toBe((await whoLines()).length);
  });

  test("a real ssh login session is counted as who counts it", async () => {
    // sshd records a login with a terminal in utmp when the file exists (it does not on this machine by default).
    const createdUtmp = !fs.existsSync("/run/utmp");
    if (createdUtmp) {
      fs.writeFileSync("/run/utmp", "");
      await execa("chgrp", ["utmp", "/run/utmp"]);
      fs.chmodSync("/run/utmp", 0o664);
    }
    const sshd = await startSshd();
    const session = execa(
      "ssh",
      ["-tt", ...sshd.sshOptions, "-p", String(sshd.port), `${sshd.user}@${sshd.host}`, "sleep 60"],
      { reject: false, stdin: "pipe" },
    );
    try {
      let who: string[] = [];
      for (let i = 0; i < 100 && who.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
        who = await whoLines();
      }
      expect(who.length).toBeGreaterThan(0);
      const [ours] = await measure(tempHome(), "users");
      expect(ours!.value).toBe(who.length);
      expect(ours!.details!.names).toContain(sshd.user);
    } finally {
      session.kill("SIGKILL");
      await session;
      await sshd.stop();
      if (createdUtmp) fs.rmSync("/run/utmp", { force: true });
    }
  }, 60_000);
});

test("CPU within 3 points of mpstat over the same interval while stress-ng loads one core", async () => {
  const home = tempHome();
  const stress = execa("stress-ng", ["--cpu", "1", "--timeout", "60s", "--quiet"], { reject: false });
  try {
    await measure(home, "cpu"); // baseline counters for the next run
    // mpstat's 10 s window sits inside the interval between the two cpu samples; the few hundred
    // milliseconds of process start-up on either side are all that differ.
    const mpstat = (await tool("mpstat", ["10", "1"])).split("\n");
    const [ours] = await measure(home, "cpu");
    const header = mpstat
      .find((l) => l.includes("%idle"))!
      .trim()
      .split(/\s+/);
    const average = mpstat
      .find((l) => l.startsWith("Average:") && /\sall\s/.test(l))!
      .trim()
      .split(/\s+/);
    const column = (name: string) => Number(average[header.indexOf(name)]);
    const reference = 100 - column("%idle") - column("%iowait");
    expect(ours!.details!.interval_seconds).toBeGreaterThanOrEqual(10);
    expect(reference).toBeGreaterThan(40); // the load is really there
    expect(Math.abs(ours!.value - reference)).toBeLessThanOrEqual(3);
  } finally {
    stress.kill("SIGKILL");
    await stress;
  }
}, 60_000);
