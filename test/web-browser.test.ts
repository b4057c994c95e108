/// <reference lib="dom" />
import fs from "node:fs";
import path from "node:path";
import { execa, type ResultPromise } from "execa";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { chromium, type Browser, type Page } from "playwright-core";
import { installDir } from "../lib/paths.js";
import { HOSTILE_PROCESS, HOSTILE_SERVER, writeFleetHome } from "./support/dashboard-fixture.js";
import { runCli, tempHome } from "./helpers.js";

const ARTIFACTS = path.join(installDir, "test-artifacts");
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

/** Starts the built ams-web on a free port and resolves with its URL once it prints it. */
async function startWeb(home: string): Promise<{ web: ResultPromise; url: string }> {
  const web = execa(process.execPath, [path.join(installDir, "dist", "ams-web.js"), "--home", home, "--port", "0"], {
    reject: false,
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    web.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const match = /http:\/\/127\.0\.0\.1:\d+\//.exec(out);
      if (match) resolve(match[0]);
    });
    web.once("exit", (code) => reject(new Error(`ams-web exited (${code}) before listening: ${out}`)));
  });
  return { web, url };
}

/** What a page must never show: a dialog (a script that ran) or an error in its console or in loading. */
interface Problems {
  dialogs: string[];
  consoleErrors: string[];
}

/** A new page of `browser` whose dialogs and errors are recorded from the start. */
async function openPage(browser: Browser, viewport: { width: number; height: number }) {
  const page = await browser.newPage({ viewport });
  const problems: Problems = { dialogs: [], consoleErrors: [] };
  page.on("dialog", (dialog) => {
    problems.dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on("console", (message) => {
    if (message.type() === "error") problems.consoleErrors.push(message.text());
  });
  page.on("pageerror", (error) => problems.consoleErrors.push(error.message));
  return { page, problems };
}

/** Every chart image of the open page: loaded by the browser, well-formed SVG, at least one data line. */
async function checkCharts(page: Page): Promise<number> {
  const images = await page.locator("img").evaluateAll((imgs) =>
    (imgs as HTMLImageElement[]).map((img) => ({
      src: img.currentSrc,
      loaded: img.complete && img.naturalWidth > 0,
      alt: img.alt,
    })),
  );
  expect(images.length).toBeGreaterThan(0);
  for (const image of images) {
    expect(image).toMatchObject({ loaded: true });
    expect(image.alt).not.toBe("");
    const response = await page.request.get(image.src);
    expect(response.status()).toBe(200);
    expect(response.headers()["content-type"]).toBe("image/svg+xml");
    const svg = await response.text();
    expect(XMLValidator.validate(svg)).toBe(true);
    const root = new XMLParser({ ignoreAttributes: false, isArray: (_n, _p, _l, isAttribute) => !isAttribute }).parse(
      svg,
    ).svg[0];
    expect(root.title[0]["#text"]).toBe(image.alt);
    expect(root.path.filter((p: Record<string, string>) => p["@_class"] === "data-line").length).toBeGreaterThan(0);
  }
  return images.length;
}

describe("dashboard in a real browser", () => {
  let home: string;
  let web: ResultPromise;
  let url: string;
  let browser: Browser;
  const DESKTOP = { width: 1280, height: 900 };

  beforeAll(async () => {
    home = tempHome();
    writeFleetHome(home);
    const graphs = await runCli("ams-graphs", ["--home", home]);
    expect(graphs.exitCode).toBe(0);
    ({ web, url } = await startWeb(home));
    browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
    fs.mkdirSync(ARTIFACTS, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    web?.kill("SIGTERM");
    const result = await web;
    // SIGTERM is a clean shutdown.
    expect(result.exitCode).toBe(0);
  });

  test("the index lists every server, with names as text, every chart loads, and no script runs", async () => {
    const { page, problems } = await openPage(browser, DESKTOP);
    await page.goto(url, { waitUntil: "load" });
    const names = await page.locator("#servers tbody tr td:first-child").allTextContents();
    expect(names).toEqual([HOSTILE_SERVER, "web-1"]);
    expect(await page.locator("script").count()).toBe(0);
    expect(await page.locator("#cert li").first().textContent()).toContain("Vulnérabilité <b>critique</b>");
    expect(await page.locator("#alerts").textContent()).toContain("No alerts firing.");
    expect(await checkCharts(page)).toBe(18);
    await page.screenshot({ path: path.join(ARTIFACTS, "dashboard-index.png"), fullPage: true });
    await page.close();
    expect(problems).toEqual({ dialogs: [], consoleErrors: [] });
  });

  test("a server page opens from the index and shows a hostile process name as text, and no script runs", async () => {
    const { page, problems } = await openPage(browser, DESKTOP);
    await page.goto(url, { waitUntil: "load" });
    await page.getByRole("link", { name: HOSTILE_SERVER, exact: true }).click();
    await page.waitForLoadState("load");
    expect(page.url()).toBe(`${url}servers/~22~3E~3Cscript~3E.html`);
    expect(await page.locator("h1").textContent()).toContain(HOSTILE_SERVER);
    expect(await page.locator("#processes td").first().textContent()).toBe(HOSTILE_PROCESS);
    expect(await page.locator("script").count()).toBe(0);
    expect(await checkCharts(page)).toBe(18);
    await page.screenshot({ path: path.join(ARTIFACTS, "dashboard-server.png"), fullPage: true });
    await page.close();
    expect(problems).toEqual({ dialogs: [], consoleErrors: [] });
  });

  test("on a phone-sized screen the page does not scroll sideways", async () => {
    const { page: phone, problems } = await openPage(browser, { width: 390, height: 844 });
    await phone.goto(url, { waitUntil: "load" });
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    // Dates in narrow table columns wrap between their parts, never inside a number ("202" / "6-11-25").
    const brokenNumbers = await phone.locator("time").evaluateAll((times) =>
      times.flatMap((time) => {
        const text = time.firstChild as Text;
        const tops = [...text.data].map((_, i) => {
          const range = document.createRange();
          range.setStart(text, i);
          range.setEnd(text, i + 1);
          return range.getBoundingClientRect().top;
        });
        return [...text.data].flatMap((c, i) =>
          i > 0 && tops[i] !== tops[i - 1] && /\d/.test(c) && /\d/.test(text.data[i - 1]!) ? [text.data] : [],
        );
      }),
    );
    expect(brokenNumbers).toEqual([]);
    await phone.screenshot({ path: path.join(ARTIFACTS, "dashboard-phone.png"), fullPage: true });
    await phone.close();
    expect(problems).toEqual({ dialogs: [], consoleErrors: [] });
  });
});
