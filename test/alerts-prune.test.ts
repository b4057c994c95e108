import fs from "node:fs";
import path from "node:path";
import { isoLocal } from "../lib/time.js";
import { appendAlertHistory, readAlertHistory, type AlertEvent } from "../storage/alert-history.js";
import { pruneAlertHistory } from "../alerts/prune.js";
import { tempHome } from "./helpers.js";

const now = new Date("2026-11-25T12:00:00Z");
const DAY = 86_400_000;

function event(key: string, daysAgo: number, kind: AlertEvent["event"] = "fired"): AlertEvent {
  const at = isoLocal(new Date(now.getTime() - daysAgo * DAY));
  return {
    key,
    rule: key.split("/")[0]!,
    server_id: "web-1",
    metric_type: "CPU",
    severity: "warning",
    event: kind,
    at,
    since: at,
    message: key,
  };
}

describe("pruneAlertHistory", () => {
  test("bounds by age and count, never removing events of a firing alert", async () => {
    const file = path.join(tempHome(), "storage", "alerts_log.json");
    await appendAlertHistory(file, [
      event("cpu/firing", 60), // old, but its alert still fires
      event("ram/old", 40),
      event("ram/old", 39, "resolved"),
      ...Array.from({ length: 8 }, (_, i) => event(`disk/n${i}`, 10 - i)),
    ]);
    const result = await pruneAlertHistory(file, { maxDays: 30, maxEntries: 5, now, firingKeys: ["cpu/firing"] });
    expect(result).toEqual({ kept: 6, removed: 5 });
    const { events } = await readAlertHistory(file);
    expect(events.map((e) => e.key)).toEqual(["cpu/firing", "disk/n3", "disk/n4", "disk/n5", "disk/n6", "disk/n7"]);
  });

  test("entries that do not parse are kept, not lost", async () => {
    const file = path.join(tempHome(), "alerts_log.json");
    fs.writeFileSync(file, JSON.stringify([{ odd: true }, event("a/b", 100)]));
    expect(await pruneAlertHistory(file, { maxDays: 30, maxEntries: 10, now, firingKeys: [] })).toEqual({
      kept: 1,
      removed: 1,
    });
    expect(JSON.parse(fs.readFileSync(file, "utf8"))).toEqual([{ odd: true }]);
  });
});
