import fs from "node:fs";
import path from "node:path";
import { checkCopy, noteKeptCopy, type CheckedCopy, type CopyNote } from "../remote/checked-copy.js";
import { appendJsonArray, formatJsonArray } from "../storage/locked-file.js";
import { tempDir } from "./helpers.js";

// A pulled copy checked against the last good copy's note gives exactly what a check of the whole
// copy gives (counts, or the error), whatever the copy holds; only the work differs.

const remote = { name: "web-2", path: "AMS/storage/system_logs.json", may_speak_for: [] };
const record = (server: string, minute: number, value = minute) => ({
  server_id: server,
  metric_type: "CPU",
  timestamp: `2026-11-25T14:${String(minute).padStart(2, "0")}:00.000+01:00`,
  value,
  unit: "%",
});
const own = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => record("web-2", from + i));

let dir: string;
let kept: string;
let copy: string;
beforeEach(() => {
  dir = tempDir("ams-checked-copy-");
  kept = path.join(dir, "web-2_logs.json");
  copy = path.join(dir, "web-2_logs.json.part");
});

/** Keeps `text` as the last good copy, as a pull does, and returns its note. */
async function keep(text: string): Promise<CopyNote> {
  fs.writeFileSync(copy, text);
  const checked = await checkCopy(remote, copy, kept, undefined);
  fs.renameSync(copy, kept);
  return (await noteKeptCopy(kept, checked))!;
}

type Outcome = Omit<CheckedCopy, "checked"> | { error: string };
const outcome = (checking: Promise<CheckedCopy>): Promise<Outcome> =>
  checking.then(
    ({ counts, recordsEnd }) => ({ counts, recordsEnd }),
    (err: unknown) => ({ error: (err as Error).message }),
  );

/** Checks `text` as a new copy with the note and without it: same outcome; returns what the noted check read. */
async function checkBothWays(note: CopyNote, text: string): Promise<{ checked?: string; outcome: Outcome }> {
  fs.writeFileSync(copy, text);
  const whole = await outcome(checkCopy(remote, copy, kept, undefined));
  let checked: string | undefined;
  const noted = await outcome(
    checkCopy(remote, copy, kept, note).then((result) => {
      checked = result.checked;
      return result;
    }),
  );
  expect(noted).toEqual(whole);
  return { checked, outcome: noted };
}

/** The store as the remote's own jobs leave it after appending `records` (in place when they can). */
async function appendedByTheStore(text: string, ...batches: object[][]): Promise<string> {
  const store = path.join(tempDir("ams-remote-store-"), "system_logs.json");
  fs.writeFileSync(store, text);
  for (const batch of batches) await appendJsonArray(store, batch);
  return fs.readFileSync(store, "utf8");
}

test("a copy with the same bytes is not read again", async () => {
  const text = formatJsonArray(own(0, 5));
  const note = await keep(text);
  const result = await checkBothWays(note, text);
  expect(result.checked).toBe("nothing");
  expect(result.outcome).toMatchObject({ counts: { records: 5, skipped: 0 } });
});

test("records appended by the store, rewritten then in place, are the only ones read", async () => {
  const first = await appendedByTheStore(formatJsonArray(own(0, 5)), own(5, 7));
  const note = await keep(first);
  const grown = await appendedByTheStore(first, own(7, 9), own(9, 12));
  expect(grown.startsWith(first.slice(0, note.records_end))).toBe(true);
  const result = await checkBothWays(note, grown);
  expect(result.checked).toBe("added records");
  expect(result.outcome).toMatchObject({ counts: { records: 12, skipped: 0 } });

  // The note of that copy serves the next one in turn.
  fs.renameSync(copy, kept);
  const next = await noteKeptCopy(kept, { ...(result.outcome as CheckedCopy), checked: "added records" });
  const again = await checkBothWays(next!, await appendedByTheStore(grown, own(12, 13)));
  expect(again.checked).toBe("added records");
  expect(again.outcome).toMatchObject({ counts: { records: 13 } });
});

test("a compact array (JSON.stringify) grown the same way is read from its new records", async () => {
  const note = await keep(JSON.stringify(own(0, 3)));
  const result = await checkBothWays(note, JSON.stringify([...own(0, 3), { junk: 1 }, record("hub", 9)]));
  expect(result.checked).toBe("added records");
  expect(result.outcome).toMatchObject({ counts: { records: 3, skipped: 1, foreign: 1, foreignServers: ["hub"] } });
});

test.each([
  ["an old record changed (still valid)", (t: string) => t.replace('"value":1,', '"value":99,'), "whole copy"],
  ["an old record broken", (t: string) => t.replace('"value":1,', '"value":,'), undefined],
  ["the first record removed (cleanup rewrote the store)", (t: string) => t.replace(/\{[^\n]*\},\n/, ""), "whole copy"],
  ["a trailing comma added", (t: string) => t.replace(/\n\]\n$/, ",\n]\n"), undefined],
  ["a record after the closing bracket", (t: string) => `${t}${JSON.stringify(record("web-2", 50))}\n`, "whole copy"],
  [
    "an unfinished append (the remote was killed mid-write)",
    (t: string) => `${t}${JSON.stringify(record("web-2", 50))},\n{"server_id":"web`,
    "whole copy",
  ],
  [
    "records nested too deep added",
    (t: string) => t.replace(/\n\]\n$/, `,\n${"[".repeat(150)}${"]".repeat(150)}\n]\n`),
    undefined,
  ],
  [
    "only unreadable records added",
    (t: string) => t.replace(/\n\]\n$/, ',\n{"hello":"world"},\n42\n]\n'),
    "added records",
  ],
  ["a byte order mark put in front", (t: string) => `\uFEFF${t}`, undefined],
])("%s: the outcome of a whole check", async (_, change, checked) => {
  const text = formatJsonArray(own(0, 5));
  const note = await keep(text);
  const result = await checkBothWays(note, change(text));
  if (checked) expect(result.checked).toBe(checked);
  else expect(result.outcome).toHaveProperty("error");
});

test("the first few foreign names are those of the whole copy, wherever they come", async () => {
  const before = [...own(0, 2), record("y", 1), record("x", 2)];
  const note = await keep(formatJsonArray(before));
  const after = [...before, ...["e", "d", "c", "b", "z"].map((s, i) => record(s, 10 + i))];
  const result = await checkBothWays(note, formatJsonArray(after));
  expect(result.checked).toBe("added records");
  expect(result.outcome).toMatchObject({
    counts: { records: 2, foreign: 7, foreignServers: ["c", "d", "e", "x", "y"] },
  });
});

test("a kept copy changed on disk since it was noted brings back the whole check", async () => {
  const note = await keep(formatJsonArray(own(0, 5)));
  // Someone rewrote the kept copy (same size), and the new copy begins with the same bytes: the
  // note's counts describe neither, so the whole copy is read (its record naming web-3 is then found).
  const changed = [...own(0, 4), record("web-3", 4)];
  fs.writeFileSync(kept, formatJsonArray(changed));
  const result = await checkBothWays(note, formatJsonArray([...changed, ...own(5, 6)]));
  expect(result.checked).toBe("whole copy");
  expect(result.outcome).toMatchObject({ counts: { records: 5, foreign: 1 } });
});
