// Renders the ten-server demo week (test/support/dashboard-fixture.ts) with the built commands and
// saves screenshots of the index and a server page, desktop and phone, into docs/screenshots/.
// Run after `npm run build`: node --import tsx scripts/dashboard-screenshots.ts [prefix]
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";
import { installDir } from "../lib/paths.js";
import { FIRING_SERVER, writeWeekFleetHome } from "../test/support/dashboard-fixture.js";

const prefix = process.argv[2] ?? "after";
const out = path.join(installDir, "docs", "screenshots");
const home = fs.mkdtempSync(path.join(os.tmpdir(), "ams-shots-"));
const run = (cmd: string, args: string[]) =>
  execFileSync(process.execPath, [path.join(installDir, "dist", `${cmd}.js`), ...args, "--home", home], {
    stdio: "inherit",
  });
writeWeekFleetHome(home);
run("ams-alert", ["check"]);
run("ams-graphs", []);
const web = spawn(process.execPath, [path.join(installDir, "dist", "ams-web.js"), "--home", home, "--port", "0"]);
const url = await new Promise<string>((resolve) => {
  let text = "";
  web.stdout.on("data", (chunk: Buffer) => {
    text += chunk.toString();
    const match = /http:\/\/127\.0\.0\.1:\d+\//.exec(text);
    if (match) resolve(match[0]);
  });
});
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--headless", "--no-sandbox"] });
fs.mkdirSync(out, { recursive: true });
for (const [device, viewport] of [
  ["desktop", { width: 1366, height: 900 }],
  ["phone", { width: 390, height: 844 }],
] as const) {
  const page = await browser.newPage({ viewport });
  await page.goto(url, { waitUntil: "load" });
  await page.screenshot({ path: path.join(out, `${prefix}-index-${device}.png`), fullPage: true });
  await page.goto(`${url}servers/${FIRING_SERVER}.html`, { waitUntil: "load" });
  await page.screenshot({ path: path.join(out, `${prefix}-server-${device}.png`), fullPage: true });
  await page.close();
}
await browser.close();
web.kill("SIGTERM");
fs.rmSync(home, { recursive: true, force: true });
console.log(`screenshots in ${out}`);
