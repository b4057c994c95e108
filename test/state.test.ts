import fs from "node:fs";
import { readState, writeState } from "../lib/state.js";
import { tempHome } from "./helpers.js";

const fail = (message: string) => {
  throw new Error(message);
};

describe("state files", () => {
  test("jobs saving the same state at once (no lock) each replace it whole: no failure, no mixed file", async () => {
    const dir = `${tempHome()}/storage/state`;
    // Different lengths, so that two writers sharing a temporary file would leave a mix of both.
    const values = Array.from({ length: 20 }, (_, i) => ({ writer: i, pad: "x".repeat(100 + i * 37) }));
    const results = await Promise.allSettled(values.map((v) => writeState(dir, "cpu", v)));
    expect(results.filter((r) => r.status === "rejected")).toEqual([]);
    expect(values).toContainEqual(await readState(dir, "cpu", () => undefined, fail));
    expect(fs.readdirSync(dir)).toEqual(["cpu.json"]);
  });
});
