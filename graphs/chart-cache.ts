import { createHash } from "node:crypto";
import fsSync from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { buildId } from "../lib/build-id.js";
import { readState, stateFile, writeState } from "../lib/state.js";
import type { ChartLine, ChartRenderer } from "./chart.js";
import { chartCsv } from "./chart-csv.js";
import { withLines, type ChartFrame, type PlannedChart } from "./charts.js";
import { timeZone } from "./time-text.js";
import { removeStale } from "./publish.js";

/**
 * The charts of earlier runs, kept so that a chart whose inputs did not change is not drawn again: a
 * long range's chart ends at its last whole step (charts.ts), so it changes once a step, while a
 * run comes every few minutes. One state file per page, storage/state/chart-cache/<page>.json,
 * holds each of its charts' key (a hash of everything its SVG and CSV are made from, taken before
 * drawing anything), its SVG and
 * its CSV's size; it is rewritten only when one of its charts changed. Charts that end now (the
 * short ranges, a young server's) change with every run and are never kept.
 */

const DIR = "chart-cache";

/** One kept chart. */
interface Kept {
  key: string;
  svg: string;
  /** Bytes of its CSV in public/: a CSV of another size (or none) is written again. */
  csv_bytes: number;
}

/** A page's kept charts, by chart id (unique within a page). */
interface KeptPage {
  charts: Record<string, Kept>;
}

const keptProblem = (value: unknown): string | undefined => {
  const charts = (value as { charts?: unknown } | null)?.charts;
  if (typeof charts !== "object" || charts === null) return "charts: expected an object";
  for (const [id, kept] of Object.entries(charts as Record<string, unknown>)) {
    const k = kept as Partial<Kept> | null;
    if (typeof k?.key !== "string" || typeof k.svg !== "string" || !Number.isInteger(k.csv_bytes))
      return `charts.${id}: expected key, svg and csv_bytes`;
  }
  return undefined;
};

/** A chart as a page needs it: its SVG, and its CSV unless the one in public/ already is it. */
export interface DrawnChart {
  svg: string;
  csv?: string;
  /** Taken from an earlier run, not drawn. */
  reused: boolean;
}

export function drawChart(renderer: ChartRenderer, chart: PlannedChart): DrawnChart {
  return {
    svg: renderer.render(chart.spec),
    csv: chartCsv(chart.spec, chart.server === undefined),
    reused: false,
  };
}

/**
 * Everything a chart's SVG and CSV are made from: this build, the time zone, the chart as its page
 * names it (its lines named only), the frame its lines are drawn in and, per line, the bytes of the
 * points it is drawn from (fleet-digest.ts windowBytes): the chart need not be drawn to be found.
 */
export function chartKey(
  draft: PlannedChart,
  frame: ChartFrame,
  lines: readonly (readonly Uint8Array[])[],
  build: string,
): string {
  const hash = createHash("sha1")
    .update(`${build}\n${timeZone()}\n`)
    .update(JSON.stringify([draft, frame]));
  for (const line of lines) {
    hash.update(Uint32Array.of(line.length));
    for (const bytes of line) hash.update(Uint32Array.of(bytes.length)).update(bytes);
  }
  return hash.digest("base64");
}

/** Asked of thousands of reused charts a run: synchronous, a round trip through the thread pool each cost more than the stat. */
const sizeOf = (file: string) => fsSync.statSync(file, { throwIfNoEntry: false })?.size;

/** Tells what went wrong with a cache file; the run goes on, drawing the charts. */
type CacheWarning = (message: string) => void;

/** The kept charts of one page: draws the charts that changed, and saves the page's charts. */
export class PageCharts {
  private readonly next: Record<string, Kept> = {};
  private changed = false;

  constructor(
    private readonly cache: ChartCache,
    private readonly name: string,
    private readonly kept: Record<string, Kept>,
  ) {}

  /**
   * The chart of `draft` (its lines named only) drawn with the lines `lines()` gives, or taken from
   * the page's kept charts when its key (chartKey of `frame` and `inputs`) did not change.
   */
  draw(
    renderer: ChartRenderer,
    draft: PlannedChart,
    frame: ChartFrame,
    inputs: () => Uint8Array[][],
    lines: () => ChartLine[],
  ): DrawnChart {
    // A chart that ends now changes with the next run: not worth keeping.
    if (draft.spec.to >= this.cache.now) return drawChart(renderer, withLines(draft, lines()));
    const key = chartKey(draft, frame, inputs(), this.cache.build);
    const kept = this.kept[draft.id];
    if (kept?.key === key) {
      this.next[draft.id] = kept;
      const same = sizeOf(path.join(this.cache.publicDir, draft.csv)) === kept.csv_bytes;
      return {
        svg: kept.svg,
        ...(same ? {} : { csv: chartCsv(withLines(draft, lines()).spec, draft.server === undefined) }),
        reused: true,
      };
    }
    const drawn = drawChart(renderer, withLines(draft, lines()));
    this.next[draft.id] = { key, svg: drawn.svg, csv_bytes: Buffer.byteLength(drawn.csv!) };
    this.changed = true;
    return drawn;
  }

  /** Writes the page's charts when one changed or went away; removes the file when none is kept. */
  async save(): Promise<void> {
    const ids = Object.keys(this.next);
    if (!this.changed && ids.length === Object.keys(this.kept).length) return;
    try {
      if (ids.length === 0) await fs.rm(stateFile(this.cache.stateDir, this.name), { force: true });
      else await writeState(this.cache.stateDir, this.name, { charts: this.next } satisfies KeptPage);
    } catch (err) {
      this.cache.warn(`chart cache ${this.name} not saved: ${(err as Error).message}`);
    }
  }
}

/**
 * The kept charts of every page of a run (none when running from the sources: no build id to tell
 * a change of code). A cache file that cannot be read or used is told and counts as empty: its
 * charts are drawn again and the file rewritten; nothing about the cache fails a run.
 */
export class ChartCache {
  /** State files of the pages drawn this run, relative to the state folder. */
  private readonly used = new Set<string>();

  private constructor(
    readonly build: string,
    readonly stateDir: string,
    readonly publicDir: string,
    readonly now: number,
    readonly warn: CacheWarning,
  ) {}

  static open(stateDir: string, publicDir: string, now: number, warn: CacheWarning): ChartCache | undefined {
    return buildId === undefined ? undefined : new ChartCache(buildId, stateDir, publicDir, now, warn);
  }

  /** The kept charts of the page published at `page` (relative to public/). */
  async page(page: string): Promise<PageCharts> {
    const name = path.join(DIR, page.replace(/\.html$/, ""));
    this.used.add(path.relative(this.stateDir, stateFile(this.stateDir, name)));
    let kept: KeptPage | undefined;
    try {
      kept = await readState<KeptPage>(this.stateDir, name, keptProblem, this.warn);
    } catch (err) {
      this.warn(`chart cache ${name} not read, its charts are drawn again: ${(err as Error).message}`);
    }
    return new PageCharts(this, name, kept?.charts ?? {});
  }

  /** After a whole run: removes the files of pages no longer drawn (a server gone, a range no longer shown). */
  async removeUnused(): Promise<void> {
    try {
      // A file readState set aside as unusable (<name>.json.corrupt-<time>) stays for a look, as other state files' do.
      await removeStale(this.stateDir, DIR, { has: (rel) => this.used.has(rel) || rel.includes(".json.corrupt-") });
    } catch (err) {
      this.warn(`chart cache not cleaned: ${(err as Error).message}`);
    }
  }
}
