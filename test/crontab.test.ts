import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { cronWord, renderBlock, renderJobs, replaceBlock, withUser } from "../scripts/crontab-block.js";
import { installDir } from "../lib/paths.js";
import { tempDir, tempHome } from "./helpers.js";

const USER_LINES = "MAILTO=admin@example.org\n# my own job\n0 3 * * * /usr/local/bin/nightly --flag\n";
const installer = path.join(installDir, "scripts", "install-crontab");
const template = fs.readFileSync(path.join(installDir, "crontab.example"), "utf8");

/** A job line's command as cron hands it to sh: five time fields (or @reboot) off, `\%` unescaped. */
const commandOf = (line: string) => line.replace(/^(@\w+|(\S+\s+){5})\s*/, "").replace(/\\%/g, "%");

/** Runs a command the way cron does: sh -c with cron's minimal environment. */
const asCron = (command: string) =>
  execa("env", ["-i", "PATH=/usr/bin:/bin", "HOME=/root", "SHELL=/bin/sh", "sh", "-c", command], { reject: false });

describe("crontab block", () => {
  const block = "# BEGIN AMS (x)\n* * * * * job\n# END AMS";

  test("installing twice gives one block; uninstalling gives back the user's lines exactly", () => {
    const once = replaceBlock(USER_LINES, block);
    expect(once).toBe(`${USER_LINES}${block}\n`);
    expect(replaceBlock(once, block)).toBe(once);
    expect(replaceBlock(replaceBlock(once, "# BEGIN AMS (y)\n# END AMS"), block)).toBe(once);
    expect(replaceBlock(once, undefined)).toBe(USER_LINES);
    expect(replaceBlock("", undefined)).toBe("");
  });

  test("a block in the middle stays in place; a broken block is refused", () => {
    const middle = `a\n${block}\nb\n`;
    expect(replaceBlock(middle, "# BEGIN AMS (new)\n# END AMS")).toBe("a\n# BEGIN AMS (new)\n# END AMS\nb\n");
    expect(() => replaceBlock("a\n# BEGIN AMS\nb\n", block)).toThrow('AMS block has no "# END AMS"');
    expect(() => replaceBlock("# END AMS\n", block)).toThrow("without");
  });

  test("the user's own lines that merely start like a marker are not taken for the block", () => {
    const own = "# BEGIN AMSTERDAM backups\n0 1 * * * /usr/local/bin/ams-backup-nl\n# END AMSTERDAM backups\n";
    expect(replaceBlock(own, block)).toBe(`${own}${block}\n`);
    expect(replaceBlock(`${own}${block}\n`, undefined)).toBe(own);
  });

  test("the schedule of the issue, with absolute paths quoted for sh and cron", () => {
    const jobs = renderJobs(template, { node: "/usr/bin/node", installDir: "/srv/my ams", home: "/data/50%" });
    const schedule = jobs.map((l) =>
      l.replace(/ \/usr\/bin\/node '\/srv\/my ams'\/dist\/(\S+)\.js((?: \w+)*) --home '\/data\/50\\%' .*$/, " $1$2"),
    );
    expect(schedule.map((l) => l.replace(/\s+/g, " "))).toEqual([
      "*/2 * * * * ams-sensor cpu load net diskio",
      "*/5 * * * * ams-sensor ram temperature uptime",
      "*/10 * * * * ams-sensor disk inodes",
      "*/15 * * * * ams-sensor processes",
      "*/5 * * * * ams-sensor users",
      "*/30 * * * * ams-sensor cert",
      "*/5 * * * * ams-alert check",
      "*/2 * * * * ams-fetch-remote",
      "*/5 * * * * ams-graphs",
      "*/30 * * * * ams-cleanup",
      "*/30 * * * * ams-cleanup alerts",
      "7 * * * * ams-backup create",
      "@reboot ams-web",
    ]);
    expect(cronWord("/it's")).toBe(`'/it'\\''s'`);
    expect(() => cronWord("/a\nb")).toThrow("line break");
  });
});

describe("system crontab lines (/etc/cron.d)", () => {
  test("every line names the user between the schedule and the command", () => {
    expect(withUser("*/2  *  *   *   *    /usr/bin/node x", "ams")).toBe("*/2  *  *   *   *    ams /usr/bin/node x");
    expect(withUser("@reboot              /usr/bin/node y", "ams")).toBe("@reboot              ams /usr/bin/node y");
    expect(() => withUser("* * * * * x", "a b")).toThrow("not a user name");
    const jobs = renderBlock(template, { node: "/usr/bin/node", installDir: "/opt/ams", home: "/var/lib/ams" }, "ams")
      .split("\n")
      .slice(1, -1);
    expect(jobs).toHaveLength(13);
    for (const line of jobs) expect(line).toMatch(/^(@reboot|(\S+\s+){5})\s*ams \/usr\/bin\/node \/opt\/ams\/dist\//);
  });

  test("a file under /etc/cron.d without --user is refused before anything is read", async () => {
    const run = await execa(installer, ["--crontab-file", "/etc/cron.d/ams", "--home", tempHome()], { reject: false });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain("add --user NAME");
  });
});

describe("scripts/install-crontab with Debian's crontab", () => {
  let saved: string | undefined;

  beforeAll(async () => {
    const current = await execa("crontab", ["-l"], { reject: false, stripFinalNewline: false });
    saved = current.exitCode === 0 ? current.stdout : undefined;
  });

  afterAll(async () => {
    if (saved === undefined) await execa("crontab", ["-r"], { reject: false });
    else await execa("crontab", ["-"], { input: saved });
  });

  const crontabText = async () => (await execa("crontab", ["-l"], { stripFinalNewline: false })).stdout;

  test("install twice → one block; the jobs run under cron's environment; uninstall leaves the other lines", async () => {
    await execa("crontab", ["-"], { input: USER_LINES });
    const home = tempHome();

    const first = await execa(installer, ["--home", home]);
    expect(first.stdout).toContain(`AMS block installed for AMS_HOME=${home}`);
    const installed = await crontabText();
    const second = await execa(installer, ["--home", home]);
    expect(second.stdout).toContain("already up to date, nothing changed");
    expect(await crontabText()).toBe(installed);
    expect(installed.match(/^# BEGIN AMS/gm)).toHaveLength(1);
    expect(installed.startsWith(USER_LINES)).toBe(true);

    const jobLine = (needle: string) => installed.split("\n").find((l) => l.includes(needle))!;
    expect(jobLine("ams-sensor.js ram")).toContain(process.execPath);
    const ram = await asCron(commandOf(jobLine("ams-sensor.js ram")));
    expect(ram.exitCode).toBe(0);
    const store = JSON.parse(fs.readFileSync(path.join(home, "storage", "system_logs.json"), "utf8"));
    expect(store.map((s: { metric_type: string }) => s.metric_type).sort()).toEqual(["RAM", "Swap", "Uptime"]);
    expect((await asCron(commandOf(jobLine("ams-backup.js")))).exitCode).toBe(0);
    expect((await asCron(commandOf(jobLine("ams-cleanup.js")))).exitCode).toBe(0);
    expect(fs.readdirSync(path.join(home, "backups"))).toHaveLength(1);
    expect(fs.readFileSync(path.join(home, "logs", "cron.log"), "utf8")).toBe("");
    expect(fs.readFileSync(path.join(home, "logs", "sensor.log"), "utf8")).toMatch(/INFO ram: 2 sample\(s\) stored/);

    const removed = await execa(installer, ["--uninstall"]);
    expect(removed.stdout).toContain("AMS block removed");
    expect(await crontabText()).toBe(USER_LINES);
    expect((await execa(installer, ["--uninstall"])).stdout).toContain("no AMS block, nothing changed");
  });

  test("a home with a space and a % in its name still runs under cron's sh", async () => {
    const home = path.join(tempHome(), "ams data 100%");
    const printed = await execa(installer, ["--print", "--home", home]);
    fs.mkdirSync(path.join(home, "logs"), { recursive: true });
    const line = printed.stdout.split("\n").find((l) => l.includes("ams-sensor.js ram"))!;
    expect(line).toContain("'");
    expect((await asCron(commandOf(line))).exitCode).toBe(0);
    expect(fs.existsSync(path.join(home, "storage", "system_logs.json"))).toBe(true);
  });

  test("--crontab-file edits a plain file the same way", async () => {
    const file = path.join(tempDir("ams-cron-"), "ams");
    fs.writeFileSync(file, USER_LINES);
    await execa(installer, ["--crontab-file", file, "--home", tempHome()]);
    expect(fs.readFileSync(file, "utf8").match(/^# END AMS$/gm)).toHaveLength(1);
    await execa(installer, ["--crontab-file", file, "--uninstall"]);
    expect(fs.readFileSync(file, "utf8")).toBe(USER_LINES);
  });
});
