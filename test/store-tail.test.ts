import fs from "node:fs";
import path from "node:path";
import { amsPaths } from "../lib/paths.js";
import { CorruptFileError, parseJsonArray, readJsonArray } from "../storage/locked-file.js";
import type { Sample } from "../storage/sample.js";
import { appendSamples, rewriteSamples } from "../storage/store.js";
import { parseAppended, readStoreSince, type StoreMark } from "../storage/store-tail.js";
import { tempHome } from "./helpers.js";

const sample = (value: number, extra: Partial<Sample> = {}): Sample => ({
  server_id: "web-1",
  metric_type: "CPU",
  timestamp: `2026-11-25T14:${String(value % 60).padStart(2, "0")}:00.000+01:00`,
  value,
  unit: "%",
  ...extra,
});
const line = (value: number, extra: Partial<Sample> = {}) => JSON.stringify(sample(value, extra));

function storeOf(home = tempHome()) {
  const file = amsPaths(home).store;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  return file;
}

/** What a whole read (readJsonArray) makes of `text`: its records, or the CorruptFileError it throws. */
function wholeRead(text: string): unknown[] | "corrupt" {
  try {
    return parseJsonArray("f", text).records;
  } catch (err) {
    if (err instanceof CorruptFileError) return "corrupt";
    throw err;
  }
}

describe("parsing the records appended after a closing line", () => {
  // The file as a read left it: two records, then the closing line at `end` (the "\n" of "\n]").
  const prefix = `[\n${line(1)},\n${line(2)}`;
  const known = [sample(1), sample(2)];

  // Each tail is what the file holds from `end` on; a whole read of prefix + tail must agree.
  const cases: [string, string, Sample[] | undefined][] = [
    ["nothing appended", "\n]\n", []],
    ["one append, its ] turned into ,", `\n,\n${line(3)}\n]\n`, [sample(3)]],
    ["two appends", `\n,\n${line(3)},\n${line(4)}\n,\n${line(5)}\n]\n`, [sample(3), sample(4), sample(5)]],
    ["an append cut short before its ,", `\n]\n${line(3)},\n${line(4).slice(0, 20)}`, []],
    ["an append cut short after its records", `\n]\n${line(3)}\n]\n`, []],
    ["a complete append, then one cut short", `\n,\n${line(3)}\n]\n${line(4)}\n]\n`, [sample(3)]],
    ["a complete append, then one cut mid-record", `\n,\n${line(3)}\n]\n{"server_id":"web`, [sample(3)]],
    [
      "records with multi-byte characters",
      `\n,\n${line(3, { labels: { mount: "/données—é" } })}\n]\n`,
      [sample(3, { labels: { mount: "/données—é" } })],
    ],
    ["a comma and no record: not JSON", "\n,\n]\n", undefined],
    ["no closing line: not JSON", `\n,\n${line(3)}`, undefined],
    ["a broken record: not JSON", `\n,\n{"value": 1,}\n]\n`, undefined],
    ["followed by a space JSON refuses", `\n,\n${line(3)}\n]\n\u00a0`, undefined],
    ["a record nested too deep", `\n,\n${"[".repeat(200)}${"]".repeat(200)}\n]\n`, undefined],
    ["not at a line break (valid JSON, not this layout)", `,\n${line(3)}\n]\n`, undefined],
  ];

  test.each(cases)("%s", (_name, tail, expected) => {
    const got = parseAppended("f", Buffer.from(tail));
    const whole = wholeRead(prefix + tail);
    if (expected === undefined) {
      // Left to the whole read (which finds most of these corrupt): the tail reader never guesses.
      expect(got).toBeUndefined();
      return;
    }
    expect(got?.records).toEqual(expected);
    expect(whole).toEqual([...known, ...expected]);
    // The next read starts at the first closing line of the file as it is now.
    expect(got!.end).toBe(Buffer.from(prefix + tail).indexOf("\n]") - Buffer.byteLength(prefix));
  });
});

describe("reading a store from where the last read stopped", () => {
  const marked = async (file: string) => {
    const read = await readStoreSince(file, undefined);
    expect(read.from).toBe("whole");
    return read.mark!;
  };

  test("after appends in place: only the new records, the same as the end of a whole read", async () => {
    const file = storeOf();
    await appendSamples(file, [sample(1), sample(2)]);
    let mark: StoreMark = await marked(file);
    expect(mark.records).toBe(2);
    for (const batch of [[3], [4, 5], [6], [7, 8, 9]]) {
      await appendSamples(
        file,
        batch.map((v) => sample(v)),
      );
      const read = await readStoreSince(file, mark);
      expect(read.from).toBe("tail");
      expect(read.records).toEqual((await readJsonArray(file)).slice(mark.records));
      expect(read.records).toEqual(batch.map((v) => sample(v)));
      mark = read.mark!;
      expect(mark.end).toBe(fs.readFileSync(file).indexOf("\n]"));
    }
    // Untouched since: nothing new, and the same mark.
    expect(await readStoreSince(file, mark)).toEqual({ from: "tail", records: [], mark });
  });

  test("a rewrite (cleanup's consolidation) is read whole", async () => {
    const file = storeOf();
    await appendSamples(file, [sample(1), sample(2)]);
    const mark = await marked(file);
    // Drop the first record: every other one is written back as it was.
    await rewriteSamples(
      file,
      () => {
        let count = 0;
        return {
          add: () => {
            count++;
          },
          finish: () => count,
        };
      },
      (count) => ({ order: Array.from({ length: count - 1 }, (_, i) => i + 1), created: [] }),
    );
    await appendSamples(file, [sample(3)]);
    const read = await readStoreSince(file, mark);
    expect(read).toMatchObject({ from: "whole", reason: "replaced", records: [sample(2), sample(3)] });
  });

  test("a copy replaced by rename is read whole, even when it only grew", async () => {
    const file = storeOf();
    await appendSamples(file, [sample(1)]);
    const mark = await marked(file);
    const next = `${file}.new`;
    fs.writeFileSync(next, `[\n${line(1)},\n${line(2)}\n]\n`);
    fs.renameSync(next, file);
    expect(await readStoreSince(file, mark)).toMatchObject({
      from: "whole",
      reason: "replaced",
      records: [sample(1), sample(2)],
    });
  });

  test("a change by another writer, a file that shrank and a changed beginning are read whole", async () => {
    const file = storeOf();
    await appendSamples(file, [sample(1), sample(2)]);
    const mark = await marked(file);
    // Appended by hand in the same layout: the write note does not describe it.
    const text = fs.readFileSync(file, "utf8");
    fs.writeFileSync(file, `${text.slice(0, text.lastIndexOf("]"))},\n${line(3)}\n]\n`);
    expect(await readStoreSince(file, mark)).toMatchObject({ from: "whole", reason: "changed by another writer" });
    expect((await readStoreSince(file, mark)).records).toEqual(await readJsonArray(file));

    const second = storeOf();
    await appendSamples(second, [sample(1), sample(2), sample(3)]);
    const big = await marked(second);
    fs.writeFileSync(second, `[\n${line(1)}\n]\n`); // in place, shorter
    expect(await readStoreSince(second, big)).toMatchObject({ from: "whole", reason: "shrank" });
  });

  test("bytes before the mark changed in place are caught by the window even under a matching note", async () => {
    const file = storeOf();
    await appendSamples(file, [sample(1), sample(2)]);
    const mark = await marked(file);
    await appendSamples(file, [sample(3)]);
    const read = await readStoreSince(file, { ...mark, window: "0".repeat(40) });
    expect(read).toMatchObject({ from: "whole", reason: "changed before the last read's end" });
    expect(read.records).toEqual([sample(1), sample(2), sample(3)]);
  });

  test("files that cannot be read from a mark: absent, empty, or not one record a line", async () => {
    const file = storeOf();
    expect(await readStoreSince(file, undefined)).toEqual({ from: "whole", records: [] });
    fs.writeFileSync(file, "[]\n");
    expect((await readStoreSince(file, undefined)).mark).toBeUndefined();
    // The original AMS's indented JSON: "\n]" closes a nested array first.
    fs.writeFileSync(
      file,
      JSON.stringify([{ a: [1] }, { b: 2 }], null, 4).replace("[\n            1\n        ]", "[\n]"),
    );
    expect((await readStoreSince(file, undefined)).mark).toBeUndefined();
    fs.writeFileSync(file, "[\n{]\n");
    await expect(readStoreSince(file, undefined)).rejects.toThrow(CorruptFileError);
  });
});
