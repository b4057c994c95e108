import fs from "node:fs";
import path from "node:path";
import { LIGHT_DETAILS, readLightRecords } from "../storage/light-records.js";
import { formatJsonArray, readJsonArray } from "../storage/locked-file.js";
import { readStoreSince, type StoreMark } from "../storage/store-tail.js";
import { tempHome } from "./helpers.js";

type Read = { light: unknown[]; whole: unknown[]; mark?: StoreMark } | { error: string };

/** What readLightRecords folds of a file holding `text`: each record as given and whole, or the error. */
async function lightRead(file: string): Promise<Read> {
  try {
    const { result, mark } = await readLightRecords(file, () => {
      const light: unknown[] = [];
      const whole: unknown[] = [];
      return {
        add: (record, full) => {
          light.push(record);
          whole.push(full());
        },
        finish: () => ({ light, whole }),
      };
    });
    return { ...result, mark };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

async function wholeRead(file: string): Promise<unknown[] | { error: string }> {
  try {
    return await readJsonArray(file);
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/** The light read agrees with readJsonArray: the same records (details aside) or the same error; how many were scanned. */
async function expectSameAsWholeRead(text: string): Promise<number> {
  const file = path.join(tempHome(), "store.json");
  fs.writeFileSync(file, text);
  const light = await lightRead(file);
  const whole = await wholeRead(file);
  if ("error" in light || !Array.isArray(whole)) {
    expect(light).toEqual(whole);
    return 0;
  }
  expect(light.whole).toEqual(whole);
  // The same mark as a whole read's, from which only what is appended later is read.
  expect(light.mark).toEqual((await readStoreSince(file, undefined)).mark);
  let scanned = 0;
  light.light.forEach((record, i) => {
    const full = whole[i] as Record<string, unknown>;
    if (typeof record === "object" && record !== null && "details" in record && record.details === LIGHT_DETAILS) {
      scanned++;
      expect(typeof full.details === "object" && full.details !== null && !Array.isArray(full.details)).toBe(true);
      expect({ ...record, details: full.details }).toEqual(full);
    } else expect(record).toEqual(full);
  });
  return scanned;
}

const base = {
  server_id: "web-1",
  metric_type: "CPU",
  timestamp: "2026-11-25T14:02:00.000+01:00",
  value: 12.5,
  unit: "%",
};
const nested = (depth: number): unknown => (depth === 0 ? 1 : { a: nested(depth - 1) });

describe("reading a store without building its records' details", () => {
  test("records in AMS's form are scanned, each field as JSON.parse reads it", async () => {
    const records = [
      { ...base, details: { user: 46.9, nice: 0, names: [], sessions: [{ user: "a", tty: "pts/0" }], ok: true } },
      {
        ...base,
        labels: { mount: "/", fs: "ext4" },
        details: { text: 'quote " slash \\ é \u00e9 \n tab\t \u2028 😀' },
      },
      { ...base, value: 0, rollup: { period_seconds: 3600, count: 12, min: 1, max: 20.25 }, details: {} },
      ...[-0, 1e5, 1.5e-3, 123456789012345680, 0.1, -12.34, 1.7976931348623157e308, 0.30000000000000004, 5e-324].map(
        (value) => ({ ...base, value, details: { n: value, neg: -value, nothing: null, no: false } }),
      ),
      { ...base, details: { deep: nested(14) } },
    ];
    expect(await expectSameAsWholeRead(formatJsonArray(records))).toBe(records.length);
  });

  test("numbers written by hand read the same: exponents, many digits, a negative zero", async () => {
    const values = ["1E3", "1e+2", "-0", "-0.0", "12345678901234567", "0.1000000000000000055511151231257827", "1e400"];
    const text = `[\n${values.map((v) => `{"server_id":"a","metric_type":"m","timestamp":"t","value":${v},"unit":""}`).join(",\n")}\n]\n`;
    expect(await expectSameAsWholeRead(text)).toBe(0);
    const file = path.join(tempHome(), "store.json");
    fs.writeFileSync(file, text);
    const read = await lightRead(file);
    expect("light" in read && read.light.map((r) => Object.is((r as { value: number }).value, -0))).toEqual([
      false,
      false,
      true,
      true,
      false,
      false,
      false,
    ]);
  });

  test("any other record is parsed whole, to the same record", async () => {
    const other = [
      { ...base, details: ["not", "an object"] },
      { ...base, details: "text" },
      { ...base, details: null },
      { ...base, details: { deep: nested(30) } },
      { ...base, extra_field: 1 },
      { metric_type: "CPU", timestamp: base.timestamp, value: 1, unit: "%" },
      { ...base, server_id: "wéb" },
      { ...base, server_id: 'we"b' },
      { labels: { a: "b" }, ...base },
      { timestamp: "2025-04-18 14:02:00", metric_type: "CPU", value: "12.5%" },
      7,
      "text",
      null,
    ];
    await expectSameAsWholeRead(formatJsonArray(other));
    const line = JSON.stringify(base);
    for (const odd of [
      line.replace('"value":12.5', '"value":12.5,"value":13'),
      line.replace("}", ',"labels":{"a":"b"},"labels":{"c":"d"}}'),
      line.replace(":", ": "),
      `${line} `,
      `${line}\r`,
      line.replace("}", ',"details":{"a":1} }'),
    ])
      await expectSameAsWholeRead(`[\n${line},\n${odd}\n]\n`);
  });

  test("a store that is not valid JSON fails as a whole read does, whatever line is wrong", async () => {
    const line = JSON.stringify({ ...base, details: { a: 1 } });
    for (const bad of [
      line.replace('{"a":1}', '{"a":tru}'),
      line.replace('{"a":1}', '{"a":01}'),
      line.replace('{"a":1}', '{"a":1.}'),
      line.replace('{"a":1}', '{"a":-}'),
      line.replace('{"a":1}', '{"a":"\u0001"}'),
      line.replace('{"a":1}', '{"a":"\\q"}'),
      line.replace('{"a":1}', '{"a":"\\u12G4"}'),
      line.replace('{"a":1}', '{"a":1,}'),
      line.replace('{"a":1}', '{"a" 1}'),
      line.replace('{"a":1}', '{"a":[1,]}'),
      line.replace('{"a":1}', `{"a":${JSON.stringify(nested(150))}}`),
      line.slice(0, -1),
      `${line}}`,
    ])
      expect(await expectSameAsWholeRead(`[\n${line},\n${bad},\n${line}\n]\n`)).toBe(0);
  });

  test("every layout a whole read takes: appends in place, torn appends, other writers' layouts", async () => {
    const a = JSON.stringify({ ...base, details: { a: 1 } });
    const b = JSON.stringify({ ...base, value: 2 });
    for (const text of [
      "[]\n",
      "[\n]\n",
      "[]",
      `[\n${a}\n]\n`,
      `[\n${a}\n,\n${b}\n]\n`,
      `[\n${a},\n${b}\n,\n${a},\n${b}\n]\n`,
      `[\n${a}\n]\n${b},\n${a}\n]\n`,
      `[\n${a}\n]\n${b.slice(0, 30)}`,
      `[\n${a},\n${b}\n]`,
      `[\n${a},\n${b},\n]\n`,
      `[\n${a},\n,\n${b}\n]\n`,
      `[\n${a}\n,\n]\n`,
      `[${a},${b}]\n`,
      `[\r\n${a},\r\n${b}\r\n]\r\n`,
      JSON.stringify([JSON.parse(a), JSON.parse(b)], null, 2),
      `\ufeff[\n${a}\n]\n`,
      `{"not":"an array"}`,
      "",
    ])
      await expectSameAsWholeRead(text);
  });

  test("a store that does not exist reads as empty", async () => {
    expect(await lightRead(path.join(tempHome(), "absent.json"))).toEqual({ light: [], whole: [] });
  });
});
