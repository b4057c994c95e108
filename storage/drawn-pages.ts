import { createHash } from "node:crypto";
import path from "node:path";
import { buildId } from "../lib/build-id.js";
import type { Paths } from "../lib/paths.js";
import { readState, stateFile, writeState, type ResetReport } from "../lib/state.js";
import { ALERT_STATE } from "./alert-state.js";
import { fileIdentity } from "./file-identity.js";
import { fleetStores, type FleetConfig } from "./fleet.js";
import { PULL_STATUS_STATE } from "./pull-status.js";

/**
 * Whether the pages in public/ still show what they would show if drawn now, so that ams-graphs
 * (under cron) and ams-web (on request) draw them only when something changed: storage/state/pages.json
 * keeps what the last whole drawing was made from.
 */

const STATE = "pages";

/** What the last whole drawing was made from, and when. */
interface DrawnPages {
  /** Hash of everything the pages are drawn from, taken before it was read (inputsOf). */
  inputs: string;
  /** Identity of the index page it published: a public/ folder emptied or restored is drawn again. */
  index: string;
  /** The time the pages were drawn for (ms since the epoch). */
  drawn_at: number;
}

const drawnProblem = (value: unknown): string | undefined => {
  const v = value as Partial<DrawnPages> | null;
  if (typeof v?.inputs !== "string") return "inputs: expected a string";
  if (typeof v.index !== "string") return "index: expected a string";
  return Number.isFinite(v.drawn_at) ? undefined : "drawn_at: expected a number";
};

/** The config keys the pages depend on besides the data: all of them (a hash), and how long a page may stand. */
export interface PagesConfig extends FleetConfig {
  graphs: { refresh: number };
}

export interface PagesCheck {
  upToDate: boolean;
  /** What the pages would be drawn from now; undefined when running from the sources (never cached). */
  inputs: string | undefined;
}

const indexPage = (paths: Paths) => path.join(paths.publicDir, "index.html");

/**
 * One hash of what the pages show: this build, the whole config, and the identity of every file
 * they are read from (each source store, the alert state and history, the pull statuses).
 */
async function inputsOf(paths: Paths, config: PagesConfig): Promise<string | undefined> {
  if (buildId === undefined) return undefined;
  const files = [
    ...fleetStores(paths, config).map((s) => s.file),
    stateFile(paths.stateDir, ALERT_STATE),
    stateFile(paths.stateDir, PULL_STATUS_STATE),
    paths.alertsLog,
  ];
  const identities = await Promise.all(files.map(fileIdentity));
  return createHash("sha256")
    .update(JSON.stringify([buildId, config, files, identities]))
    .digest("hex");
}

/**
 * Up to date when nothing the pages are drawn from changed since the last whole drawing, its index
 * page is still the one it wrote, and it is younger than graphs.refresh: the pages state times and
 * ages ("last sample 3 min ago"), which go stale with the clock alone. `onReset` (ams-graphs, the
 * owner) moves an unusable state file aside; other readers read it as absent.
 */
export async function checkDrawnPages(
  paths: Paths,
  config: PagesConfig,
  now: Date,
  onReset?: ResetReport,
): Promise<PagesCheck> {
  const [inputs, drawn, index] = await Promise.all([
    inputsOf(paths, config),
    readState<DrawnPages>(paths.stateDir, STATE, drawnProblem, onReset ?? (() => {}), onReset !== undefined),
    fileIdentity(indexPage(paths)),
  ]);
  const age = now.getTime() - (drawn?.drawn_at ?? NaN);
  const upToDate =
    inputs !== undefined &&
    drawn?.inputs === inputs &&
    drawn.index === index &&
    age >= 0 &&
    age < config.graphs.refresh * 1000;
  return { upToDate, inputs };
}

/** Records a whole drawing made from `inputs` (as checkDrawnPages returned them before the drawing read anything). */
export async function recordDrawnPages(paths: Paths, inputs: string | undefined, now: Date): Promise<void> {
  if (inputs === undefined) return;
  const drawn: DrawnPages = { inputs, index: await fileIdentity(indexPage(paths)), drawn_at: now.getTime() };
  await writeState(paths.stateDir, STATE, drawn);
}
