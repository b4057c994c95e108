// Each sensor against the reference tool on the same machine (CI installs procps, sysstat, stress-ng).
import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { installDir } from "../lib/paths.js";
import type { Sample } from "../storage/sample.js";
import { isoLocal } from "../lib/time.js";
import { fixture, runCli, tempDir, tempHome, writeConfig } from "./helpers.js";
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

describe("load", () => {
  test("equals /proc/loadavg and uptime's figures read in the same instant; per CPU is load1 ÷ cores", async () => {
    const before = fs.readFileSync("/proc/loadavg", "utf8");
    const uptimeBefore = await tool("uptime", []);
    const ours = await measure(tempHome(), "load");
    const after = fs.readFileSync("/proc/loadavg", "utf8");
    const value = (metric: string) => ours.find((s) => s.metric_type === metric)!.value;
    const figures = [value("Load1"), value("Load5"), value("Load15")];
    // The kernel updates the averages every 5 s: ours match the reading before or the one after.
    const readings = [before, after].map((text) => text.split(" ").slice(0, 3).map(Number));
    expect(readings).toContainEqual(figures);
    const printed = (text: string) => /load average: ([\d.]+), ([\d.]+), ([\d.]+)/.exec(text)!.slice(1).map(Number);
    expect([printed(uptimeBefore), printed(await tool("uptime", []))]).toContainEqual(figures);
    const cores = (await tool("getconf", ["_NPROCESSORS_ONLN"])).trim();
    // Stored with two decimals: within half a hundredth of load1 ÷ cores.
    expect(Math.abs(value("LoadPerCPU") - figures[0]! / Number(cores))).toBeLessThanOrEqual(0.005 + 1e-9);
  });
});

test("swap equals free's used / total, 0 % and no_swap without swap", async () => {
  const [swap] = (await measure(tempHome(), "ram")).filter((s) => s.metric_type === "Swap");
  const [total, used] = (await tool("free", ["-b"]))
    .split("\n")
    .find((l) => l.startsWith("Swap:"))!
    .trim()
    .split(/\s+/)
    .slice(1, 3)
    .map(Number);
  if (total === 0) {
    expect(swap!.value).toBe(0);
    expect(swap!.details).toEqual({ no_swap: true });
  } else expect(Math.abs(swap!.value - (used! / total!) * 100)).toBeLessThanOrEqual(0.5);
});

test("inodes equal df -i's IUse% for every mount both report, / included", async () => {
  const dfInodes = async () =>
    new Map(
      (await tool("df", ["-i", "-P"]))
        .split("\n")
        .slice(1)
        .map((line) => {
          const fields = line.trim().split(/\s+/);
          return [fields.slice(5).join(" "), fields[4]!] as const;
        }),
    );
  const before = await dfInodes();
  const ours = await measure(tempHome(), "inodes");
  const after = await dfInodes();
  const compared = ours.filter((s) => before.has(s.labels!.mount!));
  expect(compared.map((s) => s.labels!.mount)).toContain("/");
  // Another process may create files meanwhile: ours equals df's reading before or after.
  for (const s of compared) expect([before, after].map((df) => df.get(s.labels!.mount!))).toContain(`${s.value}%`);
});

describe("uptime", () => {
  test("within 1 s of /proc/uptime", async () => {
    const read = () => Number(fs.readFileSync("/proc/uptime", "utf8").split(" ")[0]);
    const before = read();
    const [ours] = await measure(tempHome(), "uptime");
    const after = read();
    expect(ours!.metric_type).toBe("Uptime");
    expect(ours!.value).toBeGreaterThanOrEqual(before - 1);
    expect(ours!.value).toBeLessThanOrEqual(after + 1);
  });

  test("a saved boot time that differs is a reboot, stored once as an event", async () => {
    const home = tempHome();
    const btime = Number(/^btime (\d+)$/m.exec(fs.readFileSync("/proc/stat", "utf8"))![1]);
    fs.mkdirSync(`${home}/storage/state`, { recursive: true });
    fs.writeFileSync(`${home}/storage/state/uptime.json`, JSON.stringify({ btime: btime - 86_400, at: btime - 600 }));
    const first = await measure(home, "uptime");
    const reboot = first.find((s) => s.metric_type === "Reboot");
    expect(reboot).toMatchObject({ unit: "event", details: { boot_time: isoLocal(new Date(btime * 1000)) } });
    expect((await measure(home, "uptime")).map((s) => s.metric_type)).toEqual(["Uptime"]);
  });
});

describe("temperature from fixture /sys trees (this machine has no sensors)", () => {
  const measureWith = async (home: string, root: string) => {
    const run = await runCli("ams-sensor", ["temperature", "--json", "--home", home], {
      env: { AMS_SYSFS_ROOT: root },
    });
    expect(run.exitCode).toBe(0);
    return (JSON.parse(run.stdout) as Sample[]).map((s) => [s.labels!.chip, s.value, s.unit, s.details!.sensor]);
  };

  test("hwmon: the hottest sensor per chip", async () => {
    expect(await measureWith(tempHome(), fixture("sys-hwmon"))).toEqual([
      ["coretemp", 52, "°C", "Core 0"],
      ["nvme", 38.9, "°C", "Composite"],
    ]);
  });

  test("thermal zones where there is no hwmon", async () => {
    expect(await measureWith(tempHome(), fixture("sys-thermal"))).toEqual([
      ["cpu-thermal", 53, "°C", "thermal_zone2"],
      ["gpu-thermal", 47.2, "°C", "thermal_zone1"],
    ]);
  });

  test("no sensor: nothing stored, said once in the log, not an error on every run", async () => {
    const home = tempHome();
    const empty = tempDir("sysfs-");
    expect(await measureWith(home, empty)).toEqual([]);
    expect(await measureWith(home, empty)).toEqual([]);
    const log = fs.readFileSync(`${home}/logs/sensor.log`, "utf8");
    expect(log.match(/no hwmon or thermal zone sensor/g)).toHaveLength(1);
  });
});

/** ams-sensor inside a network namespace of the test: it sees that namespace's interfaces, as sar does there. */
async function measureIn(namespace: string, home: string, sensor: string): Promise<Sample[]> {
  const cli = path.join(installDir, "dist", "ams-sensor.js");
  const run = await execa("ip", ["netns", "exec", namespace, process.execPath, cli, sensor, "--json", "--home", home]);
  return JSON.parse(run.stdout) as Sample[];
}

/** The "Average:" row of `name` in sar's or iostat's table, by column header. */
function tableRow(output: string, headerStart: RegExp, name: string): Record<string, number> {
  const lines = output.split("\n").map((l) => l.trim().split(/\s+/));
  const header = lines.find((f) => headerStart.test(f.join(" ")))!;
  const row = lines.find((f) => f.includes(name) && f !== header)!;
  const offset = row.indexOf(name) - header.findIndex((h) => /^(IFACE|Device)$/.test(h));
  return Object.fromEntries(header.map((h, i) => [h, Number(row[i + offset])]));
}

test("net within 5 % of sar -n DEV over the same window, on a veth pair between two namespaces of the test", async () => {
  const tag = String(process.pid);
  const [nsA, nsB] = [`ams-acc-a-${tag}`, `ams-acc-b-${tag}`];
  const [vethA, vethB] = [`amsa${tag}`.slice(0, 15), `amsb${tag}`.slice(0, 15)];
  const subnet = `10.200.${(process.pid % 250) + 1}`;
  const ip = (...args: string[]) => execa("ip", args);
  const home = tempHome();
  writeConfig(home, { sensors: { net: { interfaces: [vethA] } } });
  let receiver, sender;
  try {
    await ip("netns", "add", nsA);
    await ip("netns", "add", nsB);
    await ip("link", "add", vethA, "netns", nsA, "type", "veth", "peer", "name", vethB, "netns", nsB);
    await ip("-n", nsA, "addr", "add", `${subnet}.1/24`, "dev", vethA);
    await ip("-n", nsB, "addr", "add", `${subnet}.2/24`, "dev", vethB);
    await ip("-n", nsA, "link", "set", vethA, "up");
    await ip("-n", nsB, "link", "set", vethB, "up");
    receiver = execa("ip", [
      "netns",
      "exec",
      nsB,
      process.execPath,
      "-e",
      `require("net").createServer((s) => s.resume()).listen(5201, "${subnet}.2", () => console.log("ready"))`,
    ]);
    await new Promise<void>((resolve) => receiver!.stdout!.once("data", () => resolve()));
    // A steady 4 MB/s, caught up every 10 ms, so both tools' windows see the same rate.
    sender = execa("ip", [
      "netns",
      "exec",
      nsA,
      process.execPath,
      "-e",
      `const s = require("net").connect(5201, "${subnet}.2"); const chunk = Buffer.alloc(16384); const start = Date.now(); let sent = 0;
       setInterval(() => { while (sent < 4e6 * (Date.now() - start) / 1000) { s.write(chunk); sent += chunk.length; } }, 10);`,
    ]);
    await new Promise((r) => setTimeout(r, 1000));
    await measureIn(nsA, home, "net"); // the baseline counters
    const sar = (await execa("ip", ["netns", "exec", nsA, "sar", "-n", "DEV", "5", "1"], { env: { LC_ALL: "C" } }))
      .stdout;
    const ours = await measureIn(nsA, home, "net");
    const reference = tableRow(sar.split("Average:").slice(1).join("Average:"), /IFACE/, vethA)["txkB/s"]! * 1024;
    const sent = ours.find((s) => s.metric_type === "NetTx" && s.labels?.interface === vethA)!;
    expect(reference).toBeGreaterThan(3e6); // the traffic is really there
    expect(Math.abs(sent.value - reference) / reference).toBeLessThanOrEqual(0.05);
    expect(ours.find((s) => s.metric_type === "NetErrors")!.value).toBe(0);
  } finally {
    sender?.kill("SIGKILL");
    receiver?.kill("SIGKILL");
    await Promise.allSettled([sender, receiver]);
    // Deleting the namespaces deletes the veth pair with them.
    await execa("ip", ["netns", "del", nsA], { reject: false });
    await execa("ip", ["netns", "del", nsB], { reject: false });
  }
}, 60_000);

test("diskio within 10 % of iostat -dx over the same window while dd oflag=direct writes", async () => {
  const dir = tempDir("diskio-");
  const source = (await tool("findmnt", ["-no", "SOURCE", "-T", dir])).trim();
  const [kernelName, parent] = (await tool("lsblk", ["-ndo", "KNAME,PKNAME", source])).trim().split(/\s+/);
  const device = parent || kernelName!;
  const home = tempHome();
  const writer = execa(
    "bash",
    ["-c", `while :; do dd if=/dev/zero of=${dir}/file bs=1M count=32 oflag=direct status=none; done`],
    { reject: false },
  );
  try {
    await new Promise((r) => setTimeout(r, 1000));
    await measure(home, "diskio"); // the baseline counters
    const iostat = await tool("iostat", ["-dx", "-y", "5", "1"]);
    const ours = await measure(home, "diskio");
    const row = tableRow(iostat, /^Device/, device);
    const value = (metric: string) => ours.find((s) => s.metric_type === metric && s.labels?.device === device)!.value;
    expect(row["wkB/s"]).toBeGreaterThan(1024); // the writes are really there
    expect(Math.abs(value("DiskWrite") - row["wkB/s"]! * 1024) / (row["wkB/s"]! * 1024)).toBeLessThanOrEqual(0.1);
    expect(Math.abs(value("DiskBusy") - row["%util"]!)).toBeLessThanOrEqual(10);
  } finally {
    writer.kill("SIGKILL");
    await writer;
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
