import fs from "node:fs";
import path from "node:path";
import { simpleParser } from "mailparser";
import { carriedSamples, judgedAlready, READ_CURSOR, type ReadCursor } from "../alerts/read-cursor.js";
import type { Condition } from "../alerts/rules.js";
import type { AlertStates } from "../alerts/state.js";
import { amsPaths } from "../lib/paths.js";
import { stateFile } from "../lib/state.js";
import { isoLocal } from "../lib/time.js";
import { formatJsonArray, readJsonArray } from "../storage/locked-file.js";
import type { Sample } from "../storage/sample.js";
import { appendSamples } from "../storage/store.js";
import { percentSamples, runCli, tempHome, writeConfig } from "./helpers.js";

// ams-alert reading only what was appended since its last run must say exactly what it says when
// it reads every store whole. Two data homes get the same samples, remote copies, cleanups and
// config changes, and the built ams-alert runs in both at the same AMS_NOW; in one of them the
// read cursor is deleted before every run, so it reads every store whole.
const T0 = new Date("2026-11-25T12:00:00Z").getTime();
const MIN = 60_000;
const at = (minute: number) => new Date(T0 + minute * MIN);

const REMOTE = { name: "db-1", host: "db-1.example.org", user: "ams" };
const CPU_RULE = { metric: "CPU", op: ">", threshold: 90, clear: 70, for: "10m", severity: "critical" };
const DISK_RULE = { metric: "Disk", op: ">", threshold: 80, for: "10m", severity: "warning" };

const webSample = percentSamples(at);
const sample = (
  server: string,
  metric: string,
  minute: number,
  value: number,
  extra: Partial<Sample> = {},
): Sample => ({
  ...webSample(metric, minute, value),
  server_id: server,
  ...extra,
});

const reboot = (server: string, minute: number): Sample =>
  sample(server, "Reboot", minute, 1, {
    unit: "event",
    details: { boot_time: isoLocal(at(minute - 1)), previous_boot_time: isoLocal(at(-600)) },
  });

const advisory = (minute: number, n: number): Sample =>
  sample("web-1", "CERT", minute, 1, {
    unit: "advisory",
    details: {
      feed: "avis",
      title: `Vulnérabilité n°${n}`,
      link: `https://www.cert.ssi.gouv.fr/avis/CERTFR-2026-AVI-${n}/`,
    },
  });

function configure(home: string, rules: Record<string, object>) {
  writeConfig(home, {
    server_id: "web-1",
    remotes: [REMOTE],
    alerts: { rules, silent_after: "15m", cert_advisories: true, reboot_notices: true },
  });
}

const cursorFile = (home: string) => stateFile(amsPaths(home).stateDir, READ_CURSOR);
const cursorOf = (home: string) => JSON.parse(fs.readFileSync(cursorFile(home), "utf8")) as ReadCursor;

/** What a run leaves that the incremental read could change: the state, the history, the mails. */
async function outcome(home: string) {
  const paths = amsPaths(home);
  const state = JSON.parse(fs.readFileSync(stateFile(paths.stateDir, "alerts"), "utf8")) as Record<string, unknown>;
  const mails = fs.existsSync(paths.outbox)
    ? await Promise.all(
        fs
          .readdirSync(paths.outbox)
          .filter((f) => f.endsWith(".eml"))
          .map(async (f) => {
            const mail = await simpleParser(fs.readFileSync(path.join(paths.outbox, f)));
            return { date: mail.date?.toISOString(), subject: mail.subject, text: mail.text, html: mail.html };
          }),
      )
    : [];
  mails.sort((a, b) => `${a.date}${a.subject}${a.text}`.localeCompare(`${b.date}${b.subject}${b.text}`));
  return { state, history: await readJsonArray(paths.alertsLog), mails };
}

describe("ams-alert reading only the appended tails", () => {
  test("gives the same alert state, history and notifications as reading every store whole", async () => {
    const incremental = tempHome();
    const whole = tempHome();
    const homes = [incremental, whole];
    let rules: Record<string, object> = { cpu_high: CPU_RULE };
    for (const home of homes) configure(home, rules);
    // Records older than the raw retention (7 days): the cleanup at minute 90 consolidates them, a rewrite.
    const old = Array.from({ length: 6 }, (_, i) => sample("web-1", "Users", -8 * 1440 + i * 10, i, { unit: "count" }));
    for (const home of homes) await appendSamples(amsPaths(home).store, old);
    const remote: Sample[] = [];

    const run = async (minute: number) => {
      for (const home of homes) {
        if (home === whole) fs.rmSync(cursorFile(home), { force: true });
        const result = await runCli("ams-alert", ["--home", home, "check"], {
          env: { AMS_NOW: at(minute).toISOString() },
        });
        expect({ minute, exit: result.exitCode, stderr: result.stderr }).toEqual({ minute, exit: 0, stderr: "" });
      }
      expect(await outcome(incremental)).toEqual(await outcome(whole));
      return cursorOf(incremental).sources;
    };
    const pull = (samples: Sample[]) => {
      remote.push(...samples);
      for (const home of homes) {
        // As ams-fetch-remote does: a new copy beside the last one, renamed over it.
        const copy = path.join(amsPaths(home).remoteDir, `${REMOTE.name}_logs.json`);
        fs.mkdirSync(path.dirname(copy), { recursive: true });
        fs.writeFileSync(`${copy}.tmp`, formatJsonArray(remote));
        fs.renameSync(`${copy}.tmp`, copy);
      }
    };
    const readsOf = new Map<number, ReadCursor["sources"]>();

    for (let minute = 0; minute <= 150; minute += 5) {
      const cpu = minute >= 20 && minute <= 50 ? 95 : minute >= 55 && minute <= 60 ? 80 : 30;
      const local = [
        sample("web-1", "CPU", minute, cpu),
        sample("web-1", "Disk", minute, minute >= 80 && minute <= 120 ? 85 : 40, { labels: { mount: "/" } }),
      ];
      if (minute === 40) local.push(reboot("web-1", minute));
      if (minute === 30) local.push(advisory(minute, 101), advisory(minute, 102));
      if (minute === 70) local.push(advisory(minute, 103), advisory(minute, 101)); // one new, one already mailed
      for (const home of homes) await appendSamples(amsPaths(home).store, local);
      // db-1 is pulled every 10 minutes until minute 50, then falls silent until minute 110.
      if (minute % 10 === 0 && (minute <= 50 || minute >= 110))
        pull([
          sample("db-1", "CPU", minute, minute === 120 ? 99 : 20),
          ...(minute === 120 ? [reboot("db-1", minute)] : []),
        ]);
      if (minute === 90)
        for (const home of homes) {
          const cleanup = await runCli("ams-cleanup", ["--home", home], { env: { AMS_NOW: at(minute).toISOString() } });
          expect(cleanup.exitCode).toBe(0);
        }
      if (minute === 100) {
        // A new rule: its series have no alert state yet and look back over their history (full
        // since minute 80, so it fires at once).
        rules = { ...rules, disk_full: DISK_RULE };
        for (const home of homes) configure(home, rules);
      }
      readsOf.set(minute, await run(minute));
    }

    // Everything the stages do happened, so the comparison above compared something.
    const events = (await readJsonArray(amsPaths(incremental).alertsLog)) as { key: string; event: string }[];
    const said = new Set(events.map((e) => `${e.event} ${e.key.replace(/@.*/, "")}`));
    for (const expected of [
      "fired cpu_high/web-1",
      "resolved cpu_high/web-1",
      "fired server_silent/db-1",
      "resolved server_silent/db-1",
      "fired rebooted/web-1",
      "fired rebooted/db-1",
      'fired disk_full/web-1{mount="/"}',
      'resolved disk_full/web-1{mount="/"}',
    ])
      expect(said).toContain(expected);
    expect(events.filter((e) => e.key.startsWith("cert_advisory/")).map((e) => e.key.slice(-5))).toEqual(["-103/"]);

    // The local store was read from its tail, except after the cleanup's rewrite and the new rule.
    const local = (minute: number) => readsOf.get(minute)!.local!;
    expect(local(0)).toMatchObject({ last_read: "whole" });
    expect(local(5)).toMatchObject({ last_read: "tail" });
    expect(local(90)).toMatchObject({ last_read: "whole", reason: "replaced" });
    expect(local(95)).toMatchObject({ last_read: "tail" });
    expect(local(100)).toMatchObject({
      last_read: "whole",
      reason: "the alert state had not judged the samples before",
    });
    expect(local(150)).toMatchObject({ last_read: "tail", whole_reads: 3, tail_reads: 28 });
    // A new remote copy is read whole; one not pulled again since is not read again.
    const db = (minute: number) => readsOf.get(minute)!["db-1"]!;
    expect(db(20)).toMatchObject({ last_read: "whole", reason: "replaced" });
    expect(db(25)).toMatchObject({ last_read: "tail" });
    expect(db(80)).toMatchObject({ last_read: "tail", samples: 6 });
    // What is carried over stays small: a few samples per series, not the store.
    expect(local(150).carried.length).toBeLessThan(20);
    expect(local(150).samples).toBeGreaterThan(60);
  }, 300_000); // 62 runs of the CLI
});

test("an unusable cursor is moved aside and every store read whole", async () => {
  const home = tempHome();
  configure(home, { cpu_high: CPU_RULE });
  await appendSamples(amsPaths(home).store, [sample("web-1", "CPU", 0, 95)]);
  const check = (minute: number) =>
    runCli("ams-alert", ["--home", home, "check"], { env: { AMS_NOW: at(minute).toISOString() } });
  expect((await check(0)).exitCode).toBe(0);
  const good = cursorOf(home);
  fs.writeFileSync(cursorFile(home), JSON.stringify({ sources: { local: { ...good.sources.local, carried: "x" } } }));
  await appendSamples(amsPaths(home).store, [sample("web-1", "CPU", 5, 95)]);
  expect((await check(5)).exitCode).toBe(0);
  expect(cursorOf(home).sources.local).toMatchObject({ last_read: "whole", whole_reads: 1, tail_reads: 0 });
  const aside = fs.readdirSync(amsPaths(home).stateDir).filter((f) => f.startsWith(`${READ_CURSOR}.json.corrupt-`));
  expect(aside).toHaveLength(1);
  expect(fs.readFileSync(path.join(amsPaths(home).logsDir, "alert.log"), "utf8")).toContain("sources.local.carried: ");
});

describe("what is carried over", () => {
  const placed = (samples: Sample[], from = 0) => samples.map((sample, i) => ({ pos: from + i, sample }));
  const history = [
    sample("web-1", "CPU", 10, 5, { unit: "%" }),
    sample("web-1", "CPU", 0, 7),
    sample("web-1", "RAM", 5, 1),
    advisory(3, 1),
    sample("web-1", "CPU", 20, 9),
    advisory(1, 1),
    reboot("web-1", 30),
    sample("web-1", "CPU", 15, 8),
  ];
  const later = [sample("web-1", "CPU", -5, 3), sample("web-1", "RAM", 40, 2), advisory(0, 1), advisory(50, 2)];

  test("each series' first, earliest and latest sample, each advisory's and reboot's earliest, in store order", () => {
    // CPU: first (0), earliest (1), latest (4); RAM (2); CERT: first and latest (3), earliest and the link's (5); reboot (6).
    expect(carriedSamples(placed(history)).map((p) => p.pos)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    // Only advisories and reboots keep their details.
    expect(carriedSamples(placed(history)).map((p) => p.sample.details !== undefined)).toEqual([
      false,
      false,
      false,
      false,
      false,
      true,
      true,
    ]);
  });

  test("carrying over what was carried plus the new samples keeps what carrying over everything keeps", () => {
    const all = carriedSamples(placed([...history, ...later]));
    const stepwise = carriedSamples([...carriedSamples(placed(history)), ...placed(later, history.length)]);
    expect(stepwise).toEqual(all);
  });

  test("the state must have judged every carried threshold observation", () => {
    const condition = { key: "cpu/web-1", rule: "cpu", server_id: "web-1", metric_type: "CPU" } as Condition;
    const until = new Map([["web-1\u0000CPU", at(20).getTime()]]);
    const state = (minute: number) => ({ "cpu/web-1": { last_at: isoLocal(at(minute)) } }) as unknown as AlertStates;
    expect(judgedAlready(state(20), [condition], until)).toBe(true);
    expect(judgedAlready(state(19), [condition], until)).toBe(false);
    expect(judgedAlready({}, [condition], until)).toBe(false);
    expect(judgedAlready({}, [condition], new Map())).toBe(true);
  });
});
