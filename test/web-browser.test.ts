/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import fs from "node:fs";
import path from "node:path";
import { execa, type ResultPromise } from "execa";
import { chromium, type Browser, type Page } from "playwright-core";
import { DEFAULT_RULES } from "../alerts/config.js";
import { installDir } from "../lib/paths.js";
import { formatValue } from "../storage/format-value.js";
import {
  FIRING_SERVER,
  HOSTILE_PROCESS,
  HOSTILE_SERVER,
  PENDING_SERVER,
  writeFleetHome,
  writeFreshHome,
  writeWeekFleetHome,
} from "./support/dashboard-fixture.js";
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
const DESKTOP = { width: 1366, height: 900 };
const PHONE = { width: 390, height: 844 };

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

/** What the rendered page looks like, measured by the browser. */
interface Layout {
  overflow: number;
  height: number;
  /** SVG texts smaller than 10 CSS px as drawn (font size × the SVG's scale). */
  smallTexts: string[];
  /** Threshold labels whose box meets the newest point's marker of their chart. */
  labelsOnNewest: string[];
  /** Status badges that wrap onto a second line. */
  wrappedBadges: string[];
  charts: number;
}

async function measure(page: Page): Promise<Layout> {
  return page.evaluate(() => {
    const intersects = (a: DOMRect, b: DOMRect) =>
      a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
    const charts = [...document.querySelectorAll<SVGSVGElement>("svg.chart")];
    const smallTexts = [...document.querySelectorAll<SVGTextElement>("svg text")].flatMap((text) => {
      const size = parseFloat(getComputedStyle(text).fontSize) * (text.getScreenCTM()?.a ?? 1);
      return size < 10 ? [`${text.textContent} (${size.toFixed(1)} px)`] : [];
    });
    const labelsOnNewest = charts.flatMap((chart) => {
      const markers = [...chart.querySelectorAll("circle.data-point")].map((c) => c.getBoundingClientRect());
      const newest = markers.sort((a, b) => b.right - a.right)[0];
      if (!newest) return [];
      return [...chart.querySelectorAll("text.threshold-label")]
        .filter((label) => intersects(label.getBoundingClientRect(), newest))
        .map((label) => `${chart.getAttribute("aria-label")}: ${label.textContent}`);
    });
    const wrappedBadges = [...document.querySelectorAll(".status")].flatMap((badge) => {
      const range = document.createRange();
      range.selectNodeContents(badge);
      const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
      return lines.size > 1 ? [badge.textContent ?? ""] : [];
    });
    return {
      overflow: document.documentElement.scrollWidth - window.innerWidth,
      height: document.documentElement.scrollHeight,
      smallTexts,
      labelsOnNewest,
      wrappedBadges,
      charts: charts.length,
    };
  });
}

/** Opens a page at one size, checks what every page must pass, saves a screenshot, and returns its layout. */
async function checkPage(browser: Browser, url: string, viewport: typeof DESKTOP, shot: string): Promise<Layout> {
  const { page, problems } = await openPage(browser, viewport);
  await page.goto(url, { waitUntil: "load" });
  expect(await page.locator("script").count()).toBe(0);
  const layout = await measure(page);
  expect({ shot, overflow: layout.overflow <= 0 }).toEqual({ shot, overflow: true });
  expect({ shot, small: viewport.width <= 400 ? layout.smallTexts : [] }).toEqual({ shot, small: [] });
  expect({ shot, labels: layout.labelsOnNewest }).toEqual({ shot, labels: [] });
  expect({ shot, badges: layout.wrappedBadges }).toEqual({ shot, badges: [] });
  await page.screenshot({ path: path.join(ARTIFACTS, `${shot}.png`), fullPage: true });
  await page.close();
  expect(problems).toEqual({ dialogs: [], consoleErrors: [] });
  return layout;
}

let browser: Browser;
const webs: ResultPromise[] = [];

beforeAll(async () => {
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
  fs.mkdirSync(ARTIFACTS, { recursive: true });
}, 30_000);

afterAll(async () => {
  await browser?.close();
  for (const web of webs) {
    web.kill("SIGTERM");
    // SIGTERM is a clean shutdown.
    expect((await web).exitCode).toBe(0);
  }
});

/** A data home made by `write`, its alerts checked and its pages rendered, served by ams-web. */
async function serve(write: (home: string) => void): Promise<{ home: string; url: string }> {
  const home = tempHome();
  write(home);
  expect((await runCli("ams-alert", ["check", "--home", home])).exitCode).toBe(0);
  const graphs = await runCli("ams-graphs", ["--home", home]);
  expect(graphs.stderr).toBe("");
  expect(graphs.exitCode).toBe(0);
  const { web, url } = await startWeb(home);
  webs.push(web);
  return { home, url };
}

describe("hostile data in a real browser", () => {
  let url: string;
  beforeAll(async () => {
    ({ url } = await serve((home) => writeFleetHome(home)));
  }, 60_000);

  test("the index shows every server as text, and no script runs", async () => {
    const { page, problems } = await openPage(browser, DESKTOP);
    await page.goto(url, { waitUntil: "load" });
    const names = await page.locator("#servers .card h3 a").allTextContents();
    expect(names.sort()).toEqual([HOSTILE_SERVER, "web-1"].sort());
    expect(await page.locator("script").count()).toBe(0);
    expect(await page.locator("#cert li").first().textContent()).toContain("Vulnérabilité <b>critique</b>");
    await page.close();
    expect(problems).toEqual({ dialogs: [], consoleErrors: [] });
  });

  test("a server page opens from the index, shows a hostile process name as text, and its charts are inline", async () => {
    const { page, problems } = await openPage(browser, DESKTOP);
    await page.goto(url, { waitUntil: "load" });
    await page.getByRole("link", { name: HOSTILE_SERVER, exact: true }).click();
    await page.waitForLoadState("load");
    expect(page.url()).toBe(`${url}servers/~22~3E~3Cscript~3E.html`);
    expect(await page.locator("h1").textContent()).toContain(HOSTILE_SERVER);
    expect(await page.locator("#processes td").first().textContent()).toBe(HOSTILE_PROCESS);
    expect(await page.locator("script").count()).toBe(0);
    expect(await page.locator("svg.chart").count()).toBe(6);
    // Each chart links its buckets as CSV.
    const csv = await page.locator("a.csv").first().getAttribute("href");
    const response = await page.request.get(new URL(csv!, page.url()).toString());
    expect(response.status()).toBe(200);
    expect((await response.text()).split("\n")[0]).toBe("time,value,min,max");
    // The tabs lead to the other ranges.
    await page.getByRole("link", { name: "7d", exact: true }).click();
    await page.waitForLoadState("load");
    expect(page.url()).toBe(`${url}servers/~22~3E~3Cscript~3E.7d.html`);
    expect(await page.locator(".tab.current").textContent()).toBe("7d");
    await page.close();
    expect(problems).toEqual({ dialogs: [], consoleErrors: [] });
  });
});

describe("a fresh install, 15 minutes in, and a ten-server week, at desktop and phone sizes", () => {
  test("a fresh install (one sample): markers with their values, nothing overflows", async () => {
    const { url } = await serve((home) => writeFreshHome(home, 1));
    for (const [name, viewport] of [
      ["desktop", DESKTOP],
      ["phone", PHONE],
    ] as const) {
      await checkPage(browser, url, viewport, `fresh-index-${name}`);
      const server = await checkPage(browser, `${url}servers/srv-01.html`, viewport, `fresh-server-${name}`);
      expect(server.charts).toBeGreaterThan(0);
    }
    const { page } = await openPage(browser, DESKTOP);
    await page.goto(`${url}servers/srv-01.html`);
    expect(await page.locator("#CPU text.point-value").count()).toBe(1);
    expect(await page.locator("#CPU .note").textContent()).toMatch(/^collecting since \d\d:\d\d$/);
    await page.close();
  }, 60_000);

  test("fifteen minutes of samples", async () => {
    const { url } = await serve((home) => writeFreshHome(home, 8));
    for (const [name, viewport] of [
      ["desktop", DESKTOP],
      ["phone", PHONE],
    ] as const) {
      await checkPage(browser, url, viewport, `quarter-index-${name}`);
      await checkPage(browser, `${url}servers/srv-01.1h.html`, viewport, `quarter-server-${name}`);
    }
  }, 60_000);

  describe("ten servers, a week, a firing and a pending alert", () => {
    let home: string;
    let url: string;
    beforeAll(async () => {
      ({ home, url } = await serve((h) => writeWeekFleetHome(h)));
    }, 120_000);

    test("every page type at both sizes; the index under 2,500 px at 1366 px", async () => {
      for (const [name, viewport] of [
        ["desktop", DESKTOP],
        ["phone", PHONE],
      ] as const) {
        const index = await checkPage(browser, url, viewport, `week-index-${name}`);
        if (name === "desktop") expect(index.height).toBeLessThan(2500);
        expect(index.charts).toBe(0);
        await checkPage(browser, `${url}servers/${FIRING_SERVER}.html`, viewport, `week-server-${name}`);
        await checkPage(browser, `${url}charts/7d.html`, viewport, `week-fleet-${name}`);
      }
      const { page } = await openPage(browser, DESKTOP);
      await page.goto(url);
      const statuses = await page.locator("#servers .card .status").allTextContents();
      expect(statuses.slice(0, 3)).toEqual(["never reported", "warning", "pending"]);
      expect(await page.locator(`tr[data-key="load_high/${PENDING_SERVER}"]`).textContent()).toMatch(
        /fires in ~1\d min if it holds/,
      );
      await page.close();
    }, 120_000);

    test("hovering the newest point of a chart shows its time and value", async () => {
      const { page } = await openPage(browser, DESKTOP);
      await page.goto(`${url}servers/${FIRING_SERVER}.html`);
      const marker = await page.locator("#CPU circle.data-point").last().boundingBox();
      await page.mouse.move(marker!.x + marker!.width / 2, marker!.y + marker!.height / 2);
      const title = await page.evaluate(
        ([x, y]) => document.elementFromPoint(x!, y!)?.closest("rect")?.querySelector("title")?.textContent,
        [marker!.x + marker!.width / 2, marker!.y + marker!.height / 2],
      );
      const csv = await (await page.request.get(`${url}data/${FIRING_SERVER}/CPU-24h.csv`)).text();
      const [, value, min, max] = csv.trim().split("\n").at(-1)!.split(",");
      const range = min === max ? "" : ` (${formatValue(Number(min), "%")} – ${formatValue(Number(max), "%")})`;
      expect(title).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d\n/);
      // The chart is the server's own: the title does not repeat its name.
      expect(title!.split("\n").slice(1)).toEqual([`${formatValue(Number(value), "%")}${range}`]);
      // The firing period is shaded on the chart it concerns.
      expect(await page.locator("#CPU rect.firing").count()).toBeGreaterThan(0);
      await page.close();
    });

    test("what fires on the index is what ams-alert list says, after a rule is disabled and a remote removed", async () => {
      const listed = async () => {
        const list = await runCli("ams-alert", ["list", "--home", home]);
        return list.stdout
          .split("\n")
          .filter((l) => /^(firing|pending)/.test(l))
          .map((l) => l.split(/\s+/))
          .map(([status, , key]) => `${status} ${key}`)
          .sort();
      };
      const shown = async () => {
        const { page } = await openPage(browser, DESKTOP);
        await page.goto(url);
        const rows = await page
          .locator("#alerts tr[data-key]")
          .evaluateAll((trs) =>
            trs.map((tr) => `${tr.className.replace("alert-", "")} ${tr.getAttribute("data-key")}`),
          );
        await page.close();
        return rows.sort();
      };
      const rerun = async (change: (config: Record<string, unknown>) => void) => {
        const file = path.join(home, "ams.config.json");
        const config = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
        change(config);
        fs.writeFileSync(file, JSON.stringify(config));
        expect((await runCli("ams-alert", ["check", "--home", home])).exitCode).toBe(0);
        expect((await runCli("ams-graphs", ["--home", home])).exitCode).toBe(0);
      };
      const before = await listed();
      expect(before).toContain(`firing cpu_high/${FIRING_SERVER}`);
      expect(before).toContain(`pending load_high/${PENDING_SERVER}`);
      expect(await shown()).toEqual(before);

      await rerun((config) => {
        config.alerts = { rules: { ...DEFAULT_RULES, cpu_high: { ...DEFAULT_RULES.cpu_high!, enabled: false } } };
      });
      const disabled = await listed();
      expect(disabled).not.toContain(`firing cpu_high/${FIRING_SERVER}`);
      expect(await shown()).toEqual(disabled);

      await rerun((config) => {
        config.remotes = (config.remotes as { name: string }[]).filter((r) => r.name !== PENDING_SERVER);
      });
      const removed = await listed();
      expect(removed).not.toContain(`pending load_high/${PENDING_SERVER}`);
      expect(await shown()).toEqual(removed);
    }, 120_000);
  });
});
