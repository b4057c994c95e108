import fs from "node:fs";
import { feedName, parseCertFeed } from "../sensors/cert-feed.js";
import { compareAdvisories } from "../storage/advisory.js";
import { cpuUsage, parseProcStat } from "../sensors/cpu.js";
import { fsUsage } from "../sensors/disk.js";
import { parseMountInfo, parseStatFs } from "../sensors/mount-stats.js";
import { formatSample } from "../storage/format-value.js";
import { parseProcPidStat, processUsage, topBy } from "../sensors/processes.js";
import { parseMemInfo, ramUsedPercent, swapUsedPercent } from "../sensors/ram.js";
import { ratesBetween } from "../sensors/counter-rates.js";
import { parseDiskstats, wholeDisk } from "../sensors/diskio.js";
import { loadPerCpu, parseLoadAvg } from "../sensors/load.js";
import { parseNetDev, watchedInterface } from "../sensors/net.js";
import { hottestPerChip, millidegrees, readTemperatures } from "../sensors/temperature.js";
import { parseUptime, rebootedSince } from "../sensors/uptime.js";
import { parseUtmp } from "../sensors/users.js";
import { fixture } from "./helpers.js";

const read = (...parts: string[]) => fs.readFileSync(fixture(...parts), "utf8");

describe("cpu", () => {
  const stat = parseProcStat(read("proc", "stat"));

  test("parses the aggregate line, the cores and the boot time", () => {
    expect(stat.total).toEqual({
      user: 9718,
      nice: 0,
      system: 7045,
      idle: 36842,
      iowait: 687,
      irq: 0,
      softirq: 226,
      steal: 0,
    });
    expect(stat.cores).toBe(2);
    expect(stat.btime).toBe(1764117000);
  });

  test("busy % over an interval excludes idle and iowait", () => {
    const after = {
      ...stat.total,
      user: stat.total.user + 50,
      system: stat.total.system + 10,
      idle: stat.total.idle + 130,
      iowait: stat.total.iowait + 10,
    };
    expect(cpuUsage(stat.total, after)).toEqual({ busy: 30, user: 25, nice: 0, system: 5, iowait: 5, steal: 0 });
  });

  test("counters going backwards (reboot) or standing still give no figure", () => {
    expect(cpuUsage(stat.total, { ...stat.total, idle: 10 })).toBeUndefined();
    expect(cpuUsage(stat.total, stat.total)).toBeUndefined();
  });

  test("iowait stepping back a little while the rest advance (tickless kernels) still gives a figure", () => {
    const t = stat.total;
    const after = { ...t, user: t.user + 60, system: t.system + 20, idle: t.idle + 120, iowait: t.iowait - 3 };
    expect(cpuUsage(t, after)).toEqual({ busy: 40, user: 30, nice: 0, system: 10, iowait: 0, steal: 0 });
  });
});

describe("ram", () => {
  test("used = total − available, as free counts it", () => {
    const info = parseMemInfo(read("proc", "meminfo"));
    expect(info).toEqual({
      totalBytes: 8000000 * 1024,
      availableBytes: 2000000 * 1024,
      swapTotalBytes: 2000000 * 1024,
      swapFreeBytes: 1500000 * 1024,
    });
    expect(ramUsedPercent(info)).toBe(75);
  });

  test("a meminfo without MemAvailable is refused", () => {
    expect(() => parseMemInfo("MemTotal: 100 kB\n")).toThrow("MemAvailable");
  });
});

describe("disk", () => {
  const mounts = parseMountInfo(read("proc", "mountinfo"));

  test("keeps real filesystems, one per device, at the shortest mount point", () => {
    expect(mounts.map((m) => m.mountPoint).sort()).toEqual(["/", "/boot/efi", "/mnt/nfs", "/srv/data disk"]);
    expect(mounts.find((m) => m.mountPoint === "/")).toEqual({
      device: "/dev/nvme0n1p2",
      mountPoint: "/",
      fsType: "ext4",
    });
  });

  test("/ is kept whatever its type (overlay in a container)", () => {
    const overlay = "1 0 0:40 / / rw - overlay overlay rw\n2 1 0:41 / /proc rw - proc proc rw\n";
    expect(parseMountInfo(overlay).map((m) => m.mountPoint)).toEqual(["/"]);
  });

  test("stat -f figures are read in df's units; anything else is refused", () => {
    expect(parseStatFs("4096 1000 200 150 100 75\n")).toEqual({
      bsize: 4096,
      blocks: 1000,
      bfree: 200,
      bavail: 150,
      files: 100,
      ffree: 75,
    });
    expect(parseStatFs("4096 1000 200\n")).toBeUndefined();
    expect(parseStatFs("a b c d e f")).toBeUndefined();
  });

  test("Use% is used / (used + available), rounded up, as df prints it", () => {
    // 1000 blocks, 200 free of which 150 available to non-root: used 800 / (800 + 150) = 84.2 → 85
    const usage = fsUsage({ bsize: 4096, blocks: 1000, bfree: 200, bavail: 150, files: 100, ffree: 75 });
    expect(usage).toEqual({
      sizeBytes: 4096000,
      usedBytes: 3276800,
      availableBytes: 614400,
      usedPercent: 85,
      inodesUsedPercent: 25,
    });
    expect(fsUsage({ bsize: 4096, blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0 })).toBeUndefined();
  });
});

describe("processes", () => {
  test("a name holding spaces and parentheses is read whole", () => {
    const entry = parseProcPidStat(read("proc", "pid-stat"));
    expect(entry).toEqual({
      pid: 1234,
      name: "tricky) name (x)",
      state: "S",
      cpuTicks: 400,
      startTicks: 12000,
      rssPages: 2500,
    });
  });

  test("CPU % is over the interval for known processes, over the lifetime for new ones", () => {
    const a = { pid: 10, name: "a", state: "R", cpuTicks: 5000, startTicks: 100, rssPages: 10 };
    const b = { pid: 11, name: "b", state: "S", cpuTicks: 300, startTicks: 40000, rssPages: 30 };
    // a used 1000 ticks (10 s) in the last 20 s; b started at 400 s of uptime and used 3 s in 100 s.
    const usages = processUsage([a, b], 500, 4096, { at: 0, uptime: 480, ticks: { "10:100": 4000 } });
    expect(usages).toEqual([
      { pid: 10, name: "a", cpu_percent: 50, rss_bytes: 40960 },
      { pid: 11, name: "b", cpu_percent: 3, rss_bytes: 122880 },
    ]);
    expect(topBy(usages, "rss_bytes", 1).map((u) => u.name)).toEqual(["b"]);
  });

  test("a pid reused by another process does not inherit the old one's ticks", () => {
    const reused = { pid: 10, name: "new", state: "R", cpuTicks: 100, startTicks: 49000, rssPages: 1 };
    const [usage] = processUsage([reused], 500, 4096, { at: 0, uptime: 480, ticks: { "10:100": 4000 } });
    expect(usage!.cpu_percent).toBe(10); // 1 s over its 10 s of life, not a negative delta
  });
});

describe("users", () => {
  function utmpRecord(type: number, pid: number, line: string, user: string, host: string, seconds: number): Buffer {
    const buf = Buffer.alloc(384);
    buf.writeInt16LE(type, 0);
    buf.writeInt32LE(pid, 4);
    buf.write(line, 8);
    buf.write(user, 44);
    buf.write(host, 76);
    buf.writeInt32LE(seconds, 340);
    return buf;
  }

  test("counts USER_PROCESS entries only", () => {
    const buf = Buffer.concat([
      utmpRecord(2, 0, "~", "reboot", "6.1.0", 1764117000), // BOOT_TIME
      utmpRecord(7, 4242, "pts/0", "alice", "192.0.2.7", 1764117600),
      utmpRecord(8, 4243, "pts/1", "", "", 0), // DEAD_PROCESS
      utmpRecord(7, 4244, "pts/2", "bob", "", 1764117900),
    ]);
    expect(parseUtmp(buf)).toEqual([
      { user: "alice", pid: 4242, line: "pts/0", host: "192.0.2.7", since: "2025-11-26T00:40:00.000Z" },
      { user: "bob", pid: 4244, line: "pts/2", host: "", since: "2025-11-26T00:45:00.000Z" },
    ]);
    expect(parseUtmp(Buffer.alloc(0))).toEqual([]);
  });
});

describe("cert feed", () => {
  const advisories = parseCertFeed(fs.readFileSync(fixture("certfr-feed.xml"), "utf8"));

  test("reads every item of a CERT-FR feed", () => {
    expect(advisories).toHaveLength(5);
    expect(advisories[0]).toEqual({
      title: "Vulnérabilité dans les produits IBM (18 avril 2025)",
      link: "https://www.cert.ssi.gouv.fr/avis/CERTFR-2025-AVI-0337/",
      published: "2025-04-18T00:00:00.000Z",
      id: "CERTFR-2025-AVI-0337",
    });
    expect(advisories[2]!.title).toBe("Bulletin d'actualité CERTFR-2025-ACT-015 (14 avril 2025)");
  });

  test("latest means newest date, then highest number, whatever the feed order", () => {
    const shuffled = [advisories[4]!, advisories[1]!, advisories[3]!, advisories[0]!, advisories[2]!];
    expect(shuffled.sort(compareAdvisories).map((a) => a.id)).toEqual([
      "CERTFR-2025-AVI-0337",
      "CERTFR-2025-AVI-0336",
      "CERTFR-2025-ACT-015",
      "CERTFR-2025-ALE-004",
      "CERTFR-2025-ALE-003",
    ]);
  });

  test.each([
    ["<rss><channel><item><title>x</title>", "malformed XML"],
    ["<html><body>maintenance</body></html>", "not an RSS feed"],
    [
      "<rss><channel><item><title>x</title><link>https://e/</link><pubDate>someday</pubDate></item></channel></rss>",
      "item 1",
    ],
  ])("a malformed feed is refused: %s", (xml, message) => {
    expect(() => parseCertFeed(xml)).toThrow(message);
  });

  test("feed names", () => {
    expect(feedName("https://www.cert.ssi.gouv.fr/alerte/feed/")).toBe("alerte");
    expect(feedName("https://www.cert.ssi.gouv.fr/avis/feed/")).toBe("avis");
    expect(feedName("https://www.cert.ssi.gouv.fr/feed/")).toBe("all");
  });
});

test("readable lines", () => {
  const base = { server_id: "web-1", timestamp: "2026-11-25T14:02:00.000+01:00" };
  expect(formatSample({ ...base, metric_type: "CPU", value: 23.4, unit: "%" })).toBe("CPU 23.4 % on web-1");
  expect(formatSample({ ...base, metric_type: "Disk", value: 24, unit: "%", labels: { mount: "/" } })).toBe(
    "Disk / 24 % on web-1",
  );
  expect(formatSample({ ...base, metric_type: "Processes", value: 120, unit: "count" })).toBe("Processes 120 on web-1");
});

test("readable lines of the newer metrics", () => {
  const base = { server_id: "web-1", timestamp: "2026-11-25T14:02:00.000+01:00" };
  expect(formatSample({ ...base, metric_type: "LoadPerCPU", value: 0.26, unit: "" })).toBe("LoadPerCPU 0.26 on web-1");
  expect(
    formatSample({ ...base, metric_type: "NetRx", value: 1572864, unit: "B/s", labels: { interface: "eth0" } }),
  ).toBe("NetRx eth0 1.5 MiB/s on web-1");
  expect(formatSample({ ...base, metric_type: "Uptime", value: 273_600, unit: "s" })).toBe("Uptime 3 d 4 h on web-1");
  expect(
    formatSample({ ...base, metric_type: "Temperature", value: 52, unit: "°C", labels: { chip: "coretemp" } }),
  ).toBe("Temperature coretemp 52.0 °C on web-1");
  expect(formatSample({ ...base, metric_type: "Reboot", value: 1, unit: "event" })).toBe("Reboot on web-1");
});

describe("load", () => {
  test("/proc/loadavg's three averages, and load per CPU", () => {
    const load = parseLoadAvg(read("proc", "loadavg"));
    expect(load).toEqual({ load1: 0.52, load5: 0.58, load15: 0.59 });
    expect(loadPerCpu(load, 2)).toBe(0.26);
    expect(loadPerCpu(load, 0)).toBe(0.52);
    expect(() => parseLoadAvg("")).toThrow("/proc/loadavg");
  });
});

describe("swap", () => {
  test("used % as free shows it, 0 without swap", () => {
    const info = parseMemInfo(read("proc", "meminfo"));
    expect(swapUsedPercent(info)).toBe(
      Math.round(((info.swapTotalBytes - info.swapFreeBytes) / info.swapTotalBytes) * 1000) / 10,
    );
    expect(swapUsedPercent({ ...info, swapTotalBytes: 0, swapFreeBytes: 0 })).toBe(0);
  });
});

describe("net", () => {
  const interfaces = parseNetDev(read("proc", "net-dev"));

  test("bytes received and sent, errors and drops of both directions, per interface", () => {
    expect(interfaces.map((i) => i.name)).toEqual(["lo", "eth0", "docker0", "vethab12", "wlan0"]);
    expect(interfaces[1]).toEqual({ name: "eth0", rxBytes: 427271636, txBytes: 2067674, faults: 2 + 3 + 4 + 5 });
  });

  test("loopback, veth ends and bridges are left out unless configured", () => {
    expect(interfaces.filter((i) => watchedInterface(i.name, [])).map((i) => i.name)).toEqual(["eth0", "wlan0"]);
    expect(interfaces.filter((i) => watchedInterface(i.name, ["vethab12"])).map((i) => i.name)).toEqual(["vethab12"]);
  });
});

describe("counter rates", () => {
  const before = { at: 0, btime: 100, counters: { eth0: [1000, 500], wlan0: [4_294_967_000, 10] } };

  test("per second over the interval; a counter that went back (wrap, reset) gives no figure", () => {
    const after = { at: 10_000, btime: 100, counters: { eth0: [21_000, 1500], wlan0: [200, 20], new0: [5, 5] } };
    expect(ratesBetween(before, after)).toEqual(new Map([["eth0", [2000, 100]]]));
  });

  test("a reboot (another boot time) or no time elapsed gives nothing", () => {
    expect(ratesBetween(before, { ...before, at: 10_000, btime: 200 }).size).toBe(0);
    expect(ratesBetween(before, before).size).toBe(0);
  });
});

describe("diskio", () => {
  test("sectors as bytes and busy milliseconds of whole disks, as iostat lists them", () => {
    const disks = parseDiskstats(read("proc", "diskstats"));
    expect(disks.find((d) => d.name === "vda")).toEqual({
      name: "vda",
      readBytes: 1277970 * 512,
      writtenBytes: 4253968 * 512,
      busyMs: 5224,
    });
    // A kernel before 4.18 writes 14 fields: still read.
    expect(disks.find((d) => d.name === "nvme0n1")?.busyMs).toBe(15);
    const block = ["loop0", "vda", "nvme0n1", "ram0"];
    expect(disks.filter((d) => wholeDisk(d.name, block)).map((d) => d.name)).toEqual(["vda", "nvme0n1"]);
  });
});

describe("uptime", () => {
  test("seconds since boot, and a reboot seen as another boot time", () => {
    expect(parseUptime(read("proc", "uptime"))).toBe(941.62);
    expect(rebootedSince(undefined, 1000)).toBe(false);
    expect(rebootedSince({ btime: 1001, at: 900 }, 1000)).toBe(false); // btime wobbles by a second
    expect(rebootedSince({ btime: 1000 - 86_400, at: 1000 - 300 }, 1000)).toBe(true);
    // The clock stepped 30 s while the machine ran for hours: btime moved, but not past the previous run.
    expect(rebootedSince({ btime: 1000, at: 1000 + 7200 }, 1030)).toBe(false);
  });
});

describe("temperature", () => {
  test("the hottest sensor of each hwmon chip; unreadable and fan-only chips give nothing", async () => {
    expect(await readTemperatures(fixture("sys-hwmon"))).toEqual([
      { chip: "coretemp", sensor: "Core 0", celsius: 52 },
      { chip: "nvme", sensor: "Composite", celsius: 38.85 },
    ]);
  });

  test("thermal zones where hwmon has none, the hottest zone of each type", async () => {
    expect(await readTemperatures(fixture("sys-thermal"))).toEqual([
      { chip: "cpu-thermal", sensor: "thermal_zone2", celsius: 53 },
      { chip: "gpu-thermal", sensor: "thermal_zone1", celsius: 47.2 },
    ]);
  });

  test("no sysfs sensors at all: nothing", async () => {
    expect(await readTemperatures(fixture("proc"))).toEqual([]);
  });

  test("millidegrees; empty or absurd readings are no reading", () => {
    expect(millidegrees("45000\n")).toBe(45);
    expect(millidegrees("")).toBeUndefined();
    expect(millidegrees("-273000")).toBeUndefined();
    expect(hottestPerChip([])).toEqual([]);
  });
});
