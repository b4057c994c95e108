import fs from "node:fs";
import path from "node:path";
import { installDir } from "../lib/paths.js";

// What the built CLIs carry (dist/, built by `npm test` before jest starts): the notification
// channels and their queue only in ams-alert, and nodemailer there only as a chunk loaded when a mail goes.
function sources(cli: string): string[] {
  const maps = [
    path.join(installDir, "dist", `${cli}.js.map`),
    ...fs
      .readdirSync(path.join(installDir, "dist", "chunks", cli))
      .filter((f) => f.endsWith(".map"))
      .map((f) => path.join(installDir, "dist", "chunks", cli, f)),
  ];
  return maps.flatMap((m) => (JSON.parse(fs.readFileSync(m, "utf8")) as { sources: string[] }).sources);
}

test.each(["ams-web", "ams-cleanup", "ams-sensor"])("%s bundles no channel, no queue, no nodemailer", (cli) => {
  const bundled = sources(cli);
  expect(bundled.some((s) => s.includes("alerts/check.ts"))).toBe(false);
  expect(bundled.filter((s) => /alerts\/(channels\/|queue\.ts)|node_modules\/nodemailer\//.test(s))).toEqual([]);
});

test("ams-alert loads nodemailer only from a chunk of its own", () => {
  const main = JSON.parse(fs.readFileSync(path.join(installDir, "dist", "ams-alert.js.map"), "utf8")) as {
    sources: string[];
  };
  expect(main.sources.some((s) => s.includes("alerts/channels/email.ts"))).toBe(true);
  expect(main.sources.some((s) => s.includes("node_modules/nodemailer/"))).toBe(false);
  expect(sources("ams-alert").some((s) => s.includes("node_modules/nodemailer/"))).toBe(true);
});
