import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import {
  cronMinutes,
  cronWord,
  mergeSensorLines,
  renderBlock,
  renderJobs,
  replaceBlock,
  withUser,
} from "../scripts/crontab-block.js";
import { installDir } from "../lib/paths.js";
import { DEFAULT_DEADLINES } from "../lib/deadlines.js";
import { tempDir, tempHome } from "./helpers.js";

const USER_LINES = "MAILTO=admin@example.org\n# my own job\n0 3 * * * /usr/local/bin/nightly --flag\n";
const installer = path.join(installDir, "scripts", "install-crontab");
const template = fs.readFileSync(path.join(installDir, "crontab.example"), "utf8");

/** A job line's command as cron hands it to sh: five time fields (or @reboot) off, `\%` unescaped. */
const commandOf = (line: string) => line.replace(/^(@\w+|(\S+\s+){5})\s*/, "").replace(/\\%/g, "%");

/** Runs a command the way cron does: sh -c with cron's minimal environment. */
const asCron = (command: string) =>
  execa("env", ["-i", "PATH=/usr/bin:/bin", "HOME=/root", "SHELL=/bin/sh", "sh", "-c", command], { reject: false });

/** "SCHEDULE step; step": a job line with its paths and redirections left out, `sleep N` kept. */
const scheduleOf = (line: string) => {
  const [, schedule, command] = /^(@\w+|(?:\S+\s+){4}\S+)\s+(.*)$/.exec(line)!;
  const steps = command!.split("; ").map((step) => step.replace(/^.*\/dist\/(\S+)\.js((?: \w+)*) --home .*$/, "$1$2"));
  return `${schedule!.replace(/\s+/g, " ")} ${steps.join("; ")}`;
};

/**
 * Within any minute, ams-alert and then ams-graphs (when scheduled) start after every sensor of that
 * minute has ended: sensors start on the minute and end by their deadline; the readers wait longer than that.
 */
function expectReadersAfterSensors(jobLines: string[], readers = ["ams-alert check", "ams-graphs"]) {
  const steps = jobLines.map((line) =>
    scheduleOf(line)
      .replace(/^(@\w+|(\S+ ){5})/, "")
      .split("; "),
  );
  const sensors = steps.filter((s) => s.some((step) => step.startsWith("ams-sensor")));
  expect(sensors.length).toBeGreaterThan(0);
  for (const line of sensors) expect(line.every((step) => step.startsWith("ams-sensor"))).toBe(true);
  const readerLines = steps.filter((s) => s.some((step) => /^ams-(alert|graphs)\b/.test(step)));
  expect(readerLines).toHaveLength(1);
  for (const line of readerLines) {
    const delay = Number(/^sleep (\d+)$/.exec(line[0]!)?.[1]);
    expect(delay).toBeGreaterThan(DEFAULT_DEADLINES.sensor);
    expect(line.slice(1)).toEqual(readers);
  }
}

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

  test("ams-alert, then ams-graphs, run after the sensors of their minute", () => {
    expectReadersAfterSensors(
      renderJobs(template, { node: "/usr/bin/node", installDir: "/opt/ams", home: "/var/lib/ams" }),
    );
  });

  test("the schedule of crontab.example, with absolute paths quoted for sh and cron", () => {
    const jobs = renderJobs(template, { node: "/usr/bin/node", installDir: "/srv/my ams", home: "/data/50%" });
    for (const line of jobs)
      expect(line).toMatch(/ \/usr\/bin\/node '\/srv\/my ams'\/dist\/\S+\.js( \w+)* --home '\/data\/50\\%' /);
    expect(jobs.map(scheduleOf)).toEqual([
      "*/2 * * * * ams-sensor cpu load net diskio",
      "*/5 * * * * ams-sensor ram temperature uptime users",
      "*/10 * * * * ams-sensor disk inodes",
      "*/15 * * * * ams-sensor processes",
      "*/30 * * * * ams-sensor cert",
      "*/2 * * * * ams-fetch-remote",
      "*/5 * * * * sleep 30; ams-alert check; ams-graphs",
      "*/30 * * * * ams-cleanup",
      "*/30 * * * * ams-cleanup alerts",
      "7 * * * * ams-backup create",
      "@reboot ams-web",
    ]);
    expect(cronWord("/it's")).toBe(`'/it'\\''s'`);
    expect(() => cronWord("/a\nb")).toThrow("line break");
  });
});

describe("sensors due in the same minute run as one process", () => {
  test("cron minute fields", () => {
    expect(cronMinutes("*/15")).toEqual([0, 15, 30, 45]);
    expect(cronMinutes("7")).toEqual([7]);
    expect(cronMinutes("50-58/4,1")).toEqual([1, 50, 54, 58]);
    expect(cronMinutes("*")).toHaveLength(60);
    for (const bad of ["60", "5-2", "*/0", "mon", ""]) expect(cronMinutes(bad)).toBeUndefined();
  });

  test("every minute runs the sensors crontab.example names for it, in one process instead of one per line", () => {
    const paths = { node: "/usr/bin/node", installDir: "/opt/ams", home: "/var/lib/ams" };
    const dueEachMinute = (lines: string[]) =>
      Array.from({ length: 60 }, (_, minute) =>
        lines
          .map((line) => /^(\S+) .*\/ams-sensor\.js (.+?) --home/.exec(line))
          .filter((m) => m && cronMinutes(m[1]!)!.includes(minute))
          .flatMap((m) => m![2]!.split(" "))
          .sort(),
      );
    const processesPerHour = (lines: string[]) =>
      lines.filter((l) => l.includes("ams-sensor.js")).reduce((n, l) => n + cronMinutes(l.split(/\s+/)[0]!)!.length, 0);
    const example = renderJobs(template, paths);
    const merged = mergeSensorLines(example);
    expect(dueEachMinute(merged)).toEqual(dueEachMinute(example));
    for (let minute = 0; minute < 60; minute++)
      expect(
        merged.filter((l) => l.includes("ams-sensor.js") && cronMinutes(l.split(/\s+/)[0]!)!.includes(minute)).length,
      ).toBeLessThanOrEqual(1);
    expect([processesPerHour(example), processesPerHour(merged)]).toEqual([54, 36]);
    // Every other line is kept, in its place.
    expect(merged.filter((l) => !l.includes("ams-sensor.js"))).toEqual(
      example.filter((l) => !l.includes("ams-sensor.js")),
    );
    expect(renderBlock(template, paths)).toContain(merged.join("\n"));
    // A line it cannot read is left alone.
    const odd = [
      "1-5 * * * * node /x/dist/ams-sensor.js cpu --home /h",
      "@hourly node /x/dist/ams-sensor.js ram --home /h",
    ];
    expect(mergeSensorLines(odd)).toEqual(odd);
  });
});

describe("system crontab lines (/etc/cron.d)", () => {
  test("every line names the user between the schedule and the command", () => {
    expect(withUser("*/2  *  *   *   *    /usr/bin/node x", "ams")).toBe("*/2  *  *   *   *    ams /usr/bin/node x");
    expect(withUser("@reboot              /usr/bin/node y", "ams")).toBe("@reboot              ams /usr/bin/node y");
    expect(() => withUser("* * * * * x", "a b")).toThrow("not a user name");
    const jobs = renderBlock(
      template,
      { node: "/usr/bin/node", installDir: "/opt/ams", home: "/var/lib/ams" },
      { systemUser: "ams" },
    )
      .split("\n")
      .slice(1, -1);
    expect(jobs).toHaveLength(11); // five sensor lines merged into five by minute
    for (const line of jobs)
      expect(line).toMatch(/^(@reboot|(\S+\s+){5})\s*ams (sleep \d+; )?\/usr\/bin\/node \/opt\/ams\/dist\//);
  });

  test("a server that pulls no remote gets no ams-fetch-remote line, and is told so", async () => {
    const paths = { node: "/usr/bin/node", installDir: "/opt/ams", home: "/var/lib/ams" };
    const without = renderBlock(template, paths, { withoutRemotePulls: true }).split("\n");
    expect(
      renderBlock(template, paths)
        .split("\n")
        .filter((l) => !without.includes(l)),
    ).toEqual([expect.stringMatching(/^\*\/2 .*\/ams-fetch-remote\.js --home/)]);
    const home = tempHome();
    const alone = await execa(installer, ["--print", "--home", home]);
    expect(alone.stdout).not.toContain("ams-fetch-remote");
    expect(alone.stderr).toContain("ams-fetch-remote left out of the schedule");
    fs.writeFileSync(
      path.join(home, "ams.config.json"),
      JSON.stringify({ remotes: [{ name: "web-2", host: "web-2.example.org", user: "ams" }] }),
    );
    const hub = await execa(installer, ["--print", "--home", home]);
    expect(hub.stdout).toContain("ams-fetch-remote.js");
    expect(hub.stderr).not.toContain("ams-fetch-remote");
  });

  test("ams-graphs is left out while ams-web draws the pages on request, and is scheduled when it does not", async () => {
    const paths = { node: "/usr/bin/node", installDir: "/opt/ams", home: "/var/lib/ams" };
    const drawing = (block: string) => block.split("\n").filter((l) => l.includes("ams-alert.js"));
    expect(drawing(renderBlock(template, paths, { withoutPageDrawing: true }))).toEqual([
      expect.stringMatching(
        /^\*\/5 .* sleep 30; \S+ \/opt\/ams\/dist\/ams-alert\.js check --home \S+ >\/dev\/null 2>>\S+$/,
      ),
    ]);
    const home = tempHome();
    const onRequest = await execa(installer, ["--print", "--home", home]);
    expect(onRequest.stdout).not.toContain("ams-graphs");
    expect(onRequest.stderr).toContain("ams-graphs left out of the schedule");
    fs.writeFileSync(path.join(home, "ams.config.json"), JSON.stringify({ web: { draw_on_request: false } }));
    const cron = await execa(installer, ["--print", "--home", home]);
    expect(drawing(cron.stdout)).toEqual([
      expect.stringMatching(/ams-alert\.js check .*; \S+ \S+\/ams-graphs\.js --home/),
    ]);
    expect(cron.stderr).not.toContain("ams-graphs");
  });

  test("a file under /etc/cron.d without --user is refused before anything is read", async () => {
    const run = await execa(installer, ["--crontab-file", "/etc/cron.d/ams", "--home", tempHome()], { reject: false });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain("add --user NAME");
  });
});

/** The invoking user's crontab as `crontab -l` shows it (or says there is none): the tests must never change it. */
const ownCrontab = async () => {
  const r = await execa("crontab", ["-l"], { reject: false, stripFinalNewline: false });
  return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
};

let ownBefore: Awaited<ReturnType<typeof ownCrontab>>;
beforeAll(async () => {
  ownBefore = await ownCrontab();
});

describe("scripts/install-crontab on a throwaway user's crontab (Debian's crontab -u), never the invoking user's", () => {
  let user: string;
  let userHome: string;

  beforeAll(async () => {
    user = `amscron${process.pid.toString(36)}${Math.random().toString(36).slice(2, 6)}`;
    userHome = tempDir("ams-cron-user-");
    await execa("useradd", ["-M", "-d", userHome, "-s", "/bin/sh", user]);
    await execa("chown", [user, userHome]);
  });

  afterAll(async () => {
    if (!user) return;
    await execa("crontab", ["-u", user, "-r"], { reject: false });
    await execa("userdel", [user], { reject: false });
  });

  /** Runs as the throwaway user, with cron's minimal environment. */
  const asUser = (command: string[]) =>
    execa(
      "runuser",
      ["-u", user, "--", "env", "-i", "PATH=/usr/bin:/bin", `HOME=${userHome}`, "SHELL=/bin/sh", ...command],
      {
        reject: false,
      },
    );
  const userCrontab = async () => (await execa("crontab", ["-u", user, "-l"], { stripFinalNewline: false })).stdout;

  test("install twice → one block; the jobs run under cron's environment; uninstall leaves the other lines", async () => {
    await execa("crontab", ["-u", user, "-"], { input: USER_LINES });
    const home = path.join(userHome, "ams");
    const install = [process.execPath, path.join(installDir, "dist", "install-crontab.js")];

    const first = await asUser([...install, "--home", home]);
    expect([first.exitCode, first.stderr]).toEqual([0, ""]);
    expect(first.stdout).toContain(`${user}'s crontab: AMS block installed for AMS_HOME=${home}`);
    const installed = await userCrontab();
    expect(await ownCrontab()).toEqual(ownBefore); // read while the suite runs
    const second = await asUser([...install, "--home", home]);
    expect(second.stdout).toContain("already up to date, nothing changed");
    expect(await userCrontab()).toBe(installed);
    expect(installed.match(/^# BEGIN AMS/gm)).toHaveLength(1);
    expect(installed.startsWith(USER_LINES)).toBe(true);
    // ams-web draws the pages on request (the default): no ams-graphs in the schedule.
    expectReadersAfterSensors(
      installed.split("\n").filter((l) => /^(@|\*|\d)/.test(l)),
      ["ams-alert check"],
    );

    const jobLine = (needle: string) => installed.split("\n").find((l) => l.includes(needle))!;
    expect(jobLine("ams-sensor.js ram")).toContain(process.execPath);
    const ram = await asUser(["sh", "-c", commandOf(jobLine("ams-sensor.js ram"))]);
    expect(ram.exitCode).toBe(0);
    const store = JSON.parse(fs.readFileSync(path.join(home, "storage", "system_logs.json"), "utf8"));
    expect(store.map((s: { metric_type: string }) => s.metric_type).sort()).toEqual(["RAM", "Swap", "Uptime", "Users"]);
    expect((await asUser(["sh", "-c", commandOf(jobLine("ams-backup.js"))])).exitCode).toBe(0);
    expect((await asUser(["sh", "-c", commandOf(jobLine("ams-cleanup.js"))])).exitCode).toBe(0);
    expect(fs.readdirSync(path.join(home, "backups"))).toHaveLength(1);
    expect(fs.statSync(path.join(home, "storage", "system_logs.json")).uid).toBe(fs.statSync(userHome).uid);
    expect(fs.readFileSync(path.join(home, "logs", "cron.log"), "utf8")).toBe("");
    expect(fs.readFileSync(path.join(home, "logs", "sensor.log"), "utf8")).toMatch(/INFO ram: 2 sample\(s\) stored/);

    const removed = await asUser([...install, "--uninstall"]);
    expect(removed.stdout).toContain("AMS block removed");
    expect(await userCrontab()).toBe(USER_LINES);
    expect((await asUser([...install, "--uninstall"])).stdout).toContain("no AMS block, nothing changed");
    expect(await ownCrontab()).toEqual(ownBefore);
  });
});

describe("scripts/install-crontab --crontab-file", () => {
  test("edits a plain file the same way; its jobs run under cron's sh", async () => {
    const file = path.join(tempDir("ams-cron-"), "ams");
    const home = tempHome();
    fs.writeFileSync(file, USER_LINES);
    expect((await execa(installer, ["--crontab-file", file, "--home", home])).stdout).toContain(
      `${file}: AMS block installed for AMS_HOME=${home}`,
    );
    const installed = fs.readFileSync(file, "utf8");
    expect(installed.match(/^# END AMS$/gm)).toHaveLength(1);
    expect((await execa(installer, ["--crontab-file", file, "--home", home])).stdout).toContain("already up to date");
    const ram = installed.split("\n").find((l) => l.includes("ams-sensor.js ram"))!;
    expect((await asCron(commandOf(ram))).exitCode).toBe(0);
    expect(fs.existsSync(path.join(home, "storage", "system_logs.json"))).toBe(true);
    await execa(installer, ["--crontab-file", file, "--uninstall"]);
    expect(fs.readFileSync(file, "utf8")).toBe(USER_LINES);
    expect(await ownCrontab()).toEqual(ownBefore);
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
});

afterAll(async () => {
  expect(await ownCrontab()).toEqual(ownBefore);
});
