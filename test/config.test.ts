import fs from "node:fs";
import path from "node:path";
import { loadConfig, parseConfig } from "../config/ams-config.js";
import { ConfigError } from "../lib/config.js";
import { parseDuration } from "../lib/duration.js";
import { tempHome } from "./helpers.js";

describe("config", () => {
  test("an empty object gives every default", () => {
    const config = parseConfig({}, "ams.config.json");
    expect(config.sensors.cert.feeds).toEqual([
      "https://www.cert.ssi.gouv.fr/alerte/feed/",
      "https://www.cert.ssi.gouv.fr/avis/feed/",
    ]);
    expect(config.sensors.cert.timeout).toBe(10);
    expect(config.server_id).toMatch(/^[A-Za-z0-9_]/);
  });

  test.each([
    [{ bogus: 1 }, "cfg.json: bogus: unknown key"],
    [{ sensors: { disk: { timout: 3 } } }, "sensors.disk.timout: unknown key"],
    [{ sensors: { cert: { timeout: "ten" } } }, "sensors.cert.timeout: expected a duration"],
    [{ sensors: { cert: { feeds: ["ftp://example.org/"] } } }, "sensors.cert.feeds.0"],
    [{ server_id: "-rf" }, "server_id: expected letters"],
    [{ server_id: 42 }, "server_id: Invalid input: expected string"],
  ])("%j is refused, naming the key", (raw, message) => {
    expect(() => parseConfig(raw, "cfg.json")).toThrow(ConfigError);
    expect(() => parseConfig(raw, "cfg.json")).toThrow(message);
  });

  test("durations", () => {
    expect(parseDuration("10m")).toBe(600);
    expect(parseDuration("4h")).toBe(14400);
    expect(parseDuration(90)).toBe(90);
    expect(parseDuration("ten")).toBeUndefined();
    expect(parseDuration(-5)).toBeUndefined();
  });

  test("a missing file means defaults; invalid JSON names the file", () => {
    const home = tempHome();
    const file = path.join(home, "ams.config.json");
    expect(loadConfig(file).sensors.disk.timeout).toBe(5);
    fs.writeFileSync(file, "{ nope");
    expect(() => loadConfig(file)).toThrow(`${file}: not valid JSON`);
  });
});

test("ams.config.example.json is a valid configuration", () => {
  const example = JSON.parse(fs.readFileSync(path.join(process.cwd(), "ams.config.example.json"), "utf8"));
  expect(() => parseConfig(example, "ams.config.example.json")).not.toThrow();
});
