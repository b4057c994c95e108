import fs from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";
import { amsPaths } from "../lib/paths.js";
import { readJsonArray } from "../storage/locked-file.js";
import type { Sample } from "../storage/sample.js";
import { appendSamples, InvalidSampleError, readSamples } from "../storage/store.js";
import { runCli, tempHome } from "./helpers.js";

const sample = (value: number, extra: Partial<Sample> = {}): Sample => ({
  server_id: "web-1",
  metric_type: "CPU",
  timestamp: "2026-11-25T14:02:00.000+01:00",
  value,
  unit: "%",
  ...extra,
});

function storeOf(home: string) {
  const file = amsPaths(home).store;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  return file;
}

describe("store", () => {
  test("appends and reads back, one record per line", async () => {
    const file = storeOf(tempHome());
    await appendSamples(file, [sample(1)]);
    await appendSamples(file, [sample(2), sample(3, { labels: { mount: "/" } })]);
    expect((await readSamples(file, "x")).samples.map((s) => s.value)).toEqual([1, 2, 3]);
    const lines = fs.readFileSync(file, "utf8").trimEnd().split("\n");
    expect(lines.filter((line) => line.startsWith("{"))).toHaveLength(3);
    // The second append wrote only its own records, after a line holding the comma.
    expect(lines).toEqual(["[", JSON.stringify(sample(1)), ",", `${JSON.stringify(sample(2))},`, lines[4], "]"]);
  });

  test("an append writes only the new records; a file not ending as AMS writes it is rewritten whole", async () => {
    const file = storeOf(tempHome());
    await appendSamples(file, [sample(1)]);
    const before = fs.readFileSync(file);
    const { ino } = fs.statSync(file);
    await appendSamples(file, [sample(2)]);
    const after = fs.readFileSync(file);
    expect(fs.statSync(file).ino).toBe(ino); // written in place, not replaced
    expect(after.subarray(0, before.length - 2).equals(before.subarray(0, before.length - 2))).toBe(true);
    expect(after.length - before.length).toBe(JSON.stringify(sample(2)).length + 3); // the record, "\n]\n"
    fs.writeFileSync(file, "[]\n"); // emptied by hand: no closing line of its own
    await appendSamples(file, [sample(3)]);
    expect(JSON.parse(fs.readFileSync(file, "utf8"))).toEqual([sample(3)]);
  });

  test("appends to a store written in another layout (the original's indented JSON) without rewriting it", async () => {
    const file = storeOf(tempHome());
    const original = JSON.stringify([{ timestamp: "2025-04-18 14:02:00", metric_type: "CPU", value: 12.5 }], null, 4);
    fs.writeFileSync(file, `${original}\n\n`);
    await appendSamples(file, [sample(2)]);
    const text = fs.readFileSync(file, "utf8");
    expect(text.startsWith(original.slice(0, original.lastIndexOf("}") + 1))).toBe(true);
    expect((await readSamples(file, "old")).samples.map((s) => [s.server_id, s.value])).toEqual([
      ["old", 12.5],
      ["web-1", 2],
    ]);
  });

  test("a store changed by anything else after AMS's last write is parsed again before an append", async () => {
    const file = storeOf(tempHome());
    await appendSamples(file, [sample(1)]);
    await appendSamples(file, [sample(2)]); // spliced: the file is as AMS left it
    expect((await readSamples(file, "x")).samples.map((s) => s.value)).toEqual([1, 2]);
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("]", "")); // an editor drops the closing bracket
    const result = await appendSamples(file, [sample(3)]);
    expect(result.movedAside).toBeDefined();
    expect((await readSamples(file, "x")).samples.map((s) => s.value)).toEqual([3]);
    fs.writeFileSync(file, "[]\n"); // emptied by hand: valid, appended to
    await appendSamples(file, [sample(4)]);
    await appendSamples(file, [sample(5)]);
    expect((await readSamples(file, "x")).samples.map((s) => s.value)).toEqual([4, 5]);
  });

  test("a store overwritten in place with its time stamp set back (cp -p, tar) is still parsed before an append", async () => {
    const file = storeOf(tempHome());
    await appendSamples(file, [sample(1)]);
    const stamp = `${file}.stamp`;
    await execa("cp", ["-p", file, stamp]); // keeps the time stamps to the nanosecond
    // Same inode, same size, same mtime: only the ctime tells that someone else wrote it.
    const damaged = "x".repeat(fs.statSync(file).size);
    fs.writeFileSync(file, damaged);
    await execa("touch", ["-r", stamp, file]);
    expect(fs.statSync(file).mtimeMs).toBe(fs.statSync(stamp).mtimeMs);
    const result = await appendSamples(file, [sample(2)]);
    expect(result.movedAside).toBeDefined();
    expect(fs.readFileSync(result.movedAside!, "utf8")).toBe(damaged);
    expect((await readSamples(file, "x")).samples.map((s) => s.value)).toEqual([2]);
  });

  test("an invalid sample is refused before anything is written", async () => {
    const file = storeOf(tempHome());
    await expect(appendSamples(file, [sample(1), sample(Number.NaN)])).rejects.toThrow(InvalidSampleError);
    await expect(appendSamples(file, [sample(1, { timestamp: "yesterday" })])).rejects.toThrow("timestamp");
    expect(fs.existsSync(file)).toBe(false);
  });

  test("reads records of the original Python AMS and skips what fits neither form", async () => {
    const file = storeOf(tempHome());
    fs.writeFileSync(
      file,
      JSON.stringify([
        { timestamp: "2025-04-18 14:02:00", server_id: "serverb", metric_type: "CPU", value: 12.5 },
        { timestamp: "2025-04-18 14:05:00", metric_type: "RAM", value: "41.2%" },
        {
          timestamp: "2025-04-18 14:30:00",
          metric_type: "Security Alert: Vulnérabilité dans Ivanti",
          value: "https://www.cert.ssi.gouv.fr/alerte/CERTFR-2025-ALE-003/",
        },
        { timestamp: "yesterday", metric_type: "CPU", value: 1 },
        { timestamp: "2025-04-18 14:02:00", metric_type: "CPU", value: "high" },
        "garbage",
        sample(7),
      ]),
    );
    const { samples, skipped } = await readSamples(file, "remote-b");
    expect(skipped).toBe(3);
    expect(samples.map((s) => [s.server_id, s.metric_type, s.value, s.unit])).toEqual([
      ["serverb", "CPU", 12.5, "%"],
      ["remote-b", "RAM", 41.2, "%"],
      ["remote-b", "CERT", 1, "advisory"],
      ["web-1", "CPU", 7, "%"],
    ]);
    expect(new Date(samples[0]!.timestamp).getTime()).toBe(new Date(2025, 3, 18, 14, 2, 0).getTime());
    expect(samples[2]!.details).toEqual({
      title: "Vulnérabilité dans Ivanti",
      link: "https://www.cert.ssi.gouv.fr/alerte/CERTFR-2025-ALE-003/",
    });
  });

  test("deduplicates by key against the store and within the batch", async () => {
    const file = storeOf(tempHome());
    const cert = (link: string) => sample(1, { metric_type: "CERT", unit: "advisory", details: { link } });
    const dedupeKey = (s: Sample) => s.details?.link as string | undefined;
    expect((await appendSamples(file, [cert("a"), cert("b"), cert("a")], { dedupeKey })).added).toHaveLength(2);
    expect((await appendSamples(file, [cert("b"), cert("c")], { dedupeKey })).added).toHaveLength(1);
    expect(await readJsonArray(file)).toHaveLength(3);
  });

  test("a store that is not valid JSON is moved aside, never overwritten", async () => {
    const file = storeOf(tempHome());
    fs.writeFileSync(file, '[{"server_id": "web-1", "metric_type"');
    const result = await appendSamples(file, [sample(5)]);
    expect(result.movedAside).toMatch(/system_logs\.json\.corrupt-\d{8}T\d{6}Z$/);
    expect(fs.readFileSync(result.movedAside!, "utf8")).toBe('[{"server_id": "web-1", "metric_type"');
    expect((await readSamples(file, "x")).samples.map((s) => s.value)).toEqual([5]);
  });
});

describe("store under concurrent jobs (built CLI)", () => {
  test("30 processes appending at once leave every record they stored, valid", async () => {
    const home = tempHome();
    const file = storeOf(home);
    await appendSamples(file, [sample(1), sample(2)]);
    // 30 different sensor lists: runs of one list wait for each other (one run at a time), different lists do not.
    const names = ["cpu", "ram", "disk", "processes", "users"];
    const lists = Array.from({ length: 30 }, (_, i) => names.filter((_, bit) => (i + 1) & (1 << bit)));
    const runs = await Promise.all(lists.map((list) => runCli("ams-sensor", [...list, "--home", home])));
    expect(runs.map((r) => [r.exitCode, r.stderr])).toEqual(Array(30).fill([0, ""]));
    const printed = runs.flatMap((r) => r.stdout.split("\n").filter(Boolean));
    const { samples, skipped } = await readSamples(file, "x");
    expect(skipped).toBe(0);
    const withRam = lists.filter((l) => l.includes("ram")).length;
    // Each ram run stores RAM and Swap in one locked write.
    expect(samples.filter((s) => s.metric_type === "RAM")).toHaveLength(withRam);
    expect(samples.filter((s) => s.metric_type === "Swap")).toHaveLength(withRam);
    expect(samples).toHaveLength(2 + printed.length);
  }, 120_000);

  test("a writer killed with SIGKILL mid-write leaves a valid file", async () => {
    const home = tempHome();
    const file = storeOf(home);
    // A large store makes each locked read long enough to be hit.
    await appendSamples(
      file,
      Array.from({ length: 100_000 }, (_, i) => sample(i % 100, { details: { pad: "x".repeat(40) } })),
    );
    // How long a whole run takes here, so that the kills land across all of it: timed once the first
    // run has cached the validated config, as the killed runs find it.
    expect((await runCli("ams-sensor", ["ram", "--home", home])).exitCode).toBe(0);
    // Without its write note the store is parsed and checked whole under the lock before the append
    // (as after any outside edit): that keeps the writer inside the lock long enough to be hit.
    const forgetNote = () => fs.rmSync(`${file}.written`, { force: true });
    forgetNote();
    const started = Date.now();
    expect((await runCli("ams-sensor", ["ram", "--home", home])).exitCode).toBe(0);
    const fullRun = Date.now() - started;
    let count = 100_004; // the two measuring runs stored RAM and Swap
    // Kills that landed while the writer held the store's lock (its lock folder is left behind):
    // between reading the store and renaming the new one over it.
    let killedMidWrite = 0;
    let lastLeftLock = false;
    for (let round = 0; round < 40 && killedMidWrite < 3; round++) {
      // A killed holder's lock would be taken over after 20 s; removing it keeps the rounds short.
      fs.rmSync(`${file}.lock`, { recursive: true, force: true });
      forgetNote();
      const child = runCli("ams-sensor", ["ram", "--home", home]);
      // Every other kill lands as soon as the writer has the lock: one in a random moment of a
      // loaded machine's run lands there too rarely to count on.
      if (round % 2 === 0) await sleep(fullRun * (0.3 + 0.7 * Math.random()));
      else
        while (child.exitCode === null && !fs.existsSync(`${file}.lock`))
          await new Promise((resolve) => setImmediate(resolve));
      child.kill("SIGKILL");
      const outcome = await child;
      lastLeftLock = outcome.signal === "SIGKILL" && fs.existsSync(`${file}.lock`);
      if (lastLeftLock) killedMidWrite++;
      const records = await readJsonArray(file); // throws if the file is not a valid JSON array
      expect([count, count + 2]).toContain(records.length); // RAM and Swap, in one write or not at all
      count = records.length;
    }
    expect(killedMidWrite).toBeGreaterThan(0);
    // And the next run is not blocked for good by the lock the last killed writer may have left.
    expect(fs.existsSync(`${file}.lock`)).toBe(lastLeftLock);
    const after = await runCli("ams-sensor", ["ram", "--home", home]);
    expect(after.exitCode).toBe(0);
    expect(await readJsonArray(file)).toHaveLength(count + 2); // RAM and Swap
  }, 120_000);

  test("a writer killed mid-append loses no acknowledged record; readers and the next writer drop only its unfinished tail", async () => {
    const BATCH = 20_000; // records (about 2 MiB) per append: the writer is inside an append most of the time
    let torn = 0;
    for (let round = 0; round < 10 && torn < 2; round++) {
      const file = storeOf(tempHome());
      await appendSamples(file, [sample(0)]);
      // Each flush takes 50 ms more, as on a spinning disk: on a fast one (or tmpfs) the moment
      // between an append's records and its "," is too short for the kill below to land in it.
      const script = `
        import fs from "node:fs/promises";
        import { appendSamples } from "./storage/store.ts";
        const probe = await fs.open(${JSON.stringify(file)}, "r");
        const handles = Object.getPrototypeOf(probe);
        await probe.close();
        const datasync = handles.datasync;
        handles.datasync = async function () {
          await datasync.call(this);
          await new Promise((resolve) => setTimeout(resolve, 50));
        };
        for (let batch = 1; ; batch++) {
          const samples = Array.from({ length: ${BATCH} }, (_, i) => ({
            server_id: "web-1", metric_type: "CPU", timestamp: "2026-11-25T14:02:00.000+01:00", value: batch % 100,
            unit: "%", labels: { batch: String(batch), index: String(i) },
          }));
          await appendSamples(${JSON.stringify(file)}, samples);
          process.stdout.write("stored\\n");
        }`;
      const child = execa(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
        cwd: process.cwd(),
        reject: false,
      });
      let acknowledged = 0;
      child.stdout.on("data", (chunk: Buffer) => (acknowledged += String(chunk).split("stored").length - 1));
      // Killed as soon as an append is seen under way (its records past the old closing line), or after a while.
      const deadline = Date.now() + 5000 + Math.random() * 1000;
      while (Date.now() < deadline) {
        const text = fs.readFileSync(file, "latin1");
        if (acknowledged > 0 && text.indexOf("\n]") !== text.lastIndexOf("\n]")) break;
        await sleep(1);
      }
      child.kill("SIGKILL");
      await child;
      let whole = true;
      try {
        JSON.parse(fs.readFileSync(file, "utf8"));
      } catch {
        whole = false;
        torn++;
      }
      // Readers see every acknowledged batch, and whole batches only.
      const stored = (await readJsonArray(file)).length - 1;
      expect(stored % BATCH).toBe(0);
      expect(stored / BATCH).toBeGreaterThanOrEqual(acknowledged);
      // The next writer stores its record and leaves a whole JSON file; the dropped tail is kept beside it.
      const next = await appendSamples(file, [sample(1)]);
      expect(JSON.parse(fs.readFileSync(file, "utf8"))).toHaveLength(stored + 2);
      if (whole) expect(next.tornTailKept).toBeUndefined();
      else expect(fs.readFileSync(next.tornTailKept!, "utf8").length).toBeGreaterThan(0);
    }
    expect(torn).toBeGreaterThan(0);
  }, 240_000);

  test("a lock left by a killed holder is taken over", async () => {
    const home = tempHome();
    const file = storeOf(home);
    const holder = execa(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `import lockfile from "proper-lockfile"; await lockfile.lock(${JSON.stringify(file)}, { realpath: false }); console.log("locked"); setInterval(() => {}, 1000);`,
      ],
      { cwd: process.cwd() },
    );
    await new Promise<void>((resolve) => holder.stdout.once("data", () => resolve()));
    expect(fs.existsSync(`${file}.lock`)).toBe(true);
    holder.kill("SIGKILL");
    await holder.catch(() => undefined);
    const run = await runCli("ams-sensor", ["ram", "--home", home]);
    expect(run.stderr).toBe("");
    expect(run.exitCode).toBe(0);
    expect(await readJsonArray(file)).toHaveLength(2); // RAM and Swap
  }, 60_000);
});
