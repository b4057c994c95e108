import fs from "node:fs";
import path from "node:path";
import { execa, type ResultPromise } from "execa";
import { amsPaths, installDir } from "../lib/paths.js";
import { appendSamples } from "../storage/store.js";
import { tempHome, writeConfig } from "./helpers.js";
import { fleetSamples, writeFleetHome } from "./support/dashboard-fixture.js";

const NOW = Date.parse("2026-11-20T12:00:00Z");
const env = { AMS_NOW: new Date(NOW).toISOString() };

/** ams-web on a free loopback port; resolves with its base URL once it listens. */
async function startWeb(home: string): Promise<{ web: ResultPromise; url: string }> {
  const web = execa(process.execPath, [path.join(installDir, "dist", "ams-web.js"), "--home", home, "--port", "0"], {
    reject: false,
    env,
  });
  const url = await new Promise<string>((resolve, reject) => {
    web.stdout.on("data", (chunk: Buffer) => {
      const found = /http:\/\/127\.0\.0\.1:\d+\//.exec(chunk.toString());
      if (found) resolve(found[0]);
    });
    void web.then((r) => reject(new Error(`ams-web exited: ${r.stderr}`)));
  });
  return { web, url };
}

const drawings = (home: string) =>
  (fs.readFileSync(path.join(home, "logs", "graphs.log"), "utf8").match(/rendered \d+ pages/g) ?? []).length;

describe("ams-web draws the pages when they are requested", () => {
  test("a request finds the pages drawn from the data as it is now; unchanged data is not drawn again", async () => {
    const home = tempHome();
    writeFleetHome(home, NOW);
    const { web, url } = await startWeb(home);
    try {
      // Nothing drawn yet: the first request draws.
      const first = await fetch(url);
      expect(first.status).toBe(200);
      expect(await first.text()).toContain("web-1");
      expect(drawings(home)).toBe(1);
      // The stylesheet is not a page, and an unchanged fleet is not drawn again.
      expect((await fetch(`${url}style.css`)).status).toBe(200);
      expect((await fetch(`${url}servers/web-1.html`)).status).toBe(200);
      expect(drawings(home)).toBe(1);

      // Data of a server never seen before: its page exists as soon as it is asked for.
      await new Promise((resolve) => setTimeout(resolve, 10_000)); // drawings start at most every 10 s
      await appendSamples(amsPaths(home).store, fleetSamples("db-9", NOW).slice(-6));
      // Requests arriving together wait for one drawing.
      const pages = await Promise.all(
        ["servers/db-9.html", "", "charts/1h.html", "servers/db-9.1h.html"].map((p) => fetch(`${url}${p}`)),
      );
      expect(pages.map((p) => p.status)).toEqual([200, 200, 200, 200]);
      expect(await pages[0]!.text()).toContain("db-9");
      expect(drawings(home)).toBe(2);
    } finally {
      web.kill("SIGTERM");
      await web;
    }
  });

  test("web.draw_on_request false serves public/ as it is", async () => {
    const home = tempHome();
    writeFleetHome(home, NOW);
    writeConfig(home, { server_id: "web-1", web: { draw_on_request: false } });
    const { web, url } = await startWeb(home);
    try {
      expect((await fetch(url)).status).toBe(404);
      expect(fs.existsSync(path.join(home, "logs", "graphs.log"))).toBe(false);
    } finally {
      web.kill("SIGTERM");
      await web;
    }
  });
});
