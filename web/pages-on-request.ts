import { spawn } from "node:child_process";
import path from "node:path";
import type { Config } from "../config/ams-config.js";
import { now } from "../lib/clock.js";
import type { Logger } from "../lib/log.js";
import { installDir, type Paths } from "../lib/paths.js";
import { checkDrawnPages } from "../storage/drawn-pages.js";

/** The command that draws the pages: the same ams-graphs cron would run, from the current build. */
const GRAPHS_CLI = path.join(installDir, "dist", "ams-graphs.js");

/** Drawings start at most this often, whatever clients ask for: a failing one is not retried per request. */
const MIN_SECONDS_BETWEEN_DRAWINGS = 10;

/** What a request for `pathname` may show that a drawing writes: the pages and their charts' CSV. */
const isDrawn = (pathname: string) => pathname.endsWith("/") || pathname.endsWith(".html") || pathname.endsWith(".csv");

export interface PagesOnRequestOptions {
  paths: Paths;
  config: Config;
  log: Logger;
  /** Default: dist/ams-graphs.js with this node. */
  command?: readonly string[];
}

/**
 * Draws the pages when one is requested and what it shows changed since the last drawing
 * (storage/drawn-pages.ts), then lets the request through: an unwatched dashboard costs nothing,
 * and a page is never older than the data it is asked after. The drawing runs as ams-graphs in its
 * own process (same renderer, same files, same run lock), one at a time; requests arriving
 * meanwhile wait for it. A drawing that fails is logged and the pages as they are are served.
 */
export function pagesOnRequest({
  paths,
  config,
  log,
  command,
}: PagesOnRequestOptions): (pathname: string) => Promise<void> {
  const [file, ...args] = command ?? [process.execPath, GRAPHS_CLI];
  let drawing: Promise<void> | undefined;
  let lastStarted = -Infinity;

  function draw(): Promise<void> {
    lastStarted = performance.now();
    const timeoutMs = (config.deadlines.graphs + 5) * 1000;
    return new Promise<void>((resolve) => {
      const child = spawn(file!, [...args, "--home", paths.home], { stdio: ["ignore", "ignore", "pipe"] });
      let stderr = "";
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
        stderr = (stderr + chunk).slice(-2000);
      });
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      const done = (outcome: string | undefined) => {
        clearTimeout(timer);
        if (outcome) log.warn(`drawing the pages on request: ${outcome}; serving them as they are`);
        resolve();
      };
      child.once("error", (err) => done(`cannot start ${file}: ${err.message}`));
      child.once("close", (code, signal) => {
        const last = stderr.trim().split("\n").pop();
        done(
          code === 0
            ? undefined
            : `ams-graphs ${signal ? `killed (${signal})` : `exited ${code}`}${last ? `: ${last}` : ""}`,
        );
      });
    });
  }

  return async (pathname) => {
    if (!isDrawn(pathname)) return;
    if (!drawing) {
      if (performance.now() - lastStarted < MIN_SECONDS_BETWEEN_DRAWINGS * 1000) return;
      if ((await checkDrawnPages(paths, config, now())).upToDate) return;
      // Checked again: another request may have started one while this one was checking.
      drawing ??= draw().finally(() => {
        drawing = undefined;
      });
    }
    await drawing;
  };
}
