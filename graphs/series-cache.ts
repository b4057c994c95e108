import fs from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { writeFileAtomic } from "../lib/atomic-write.js";
import { buildId } from "../lib/build-id.js";
import { ifExists } from "../lib/if-exists.js";
import type { Logger } from "../lib/log.js";
import type { Paths } from "../lib/paths.js";
import { readState, stateFile, writeState } from "../lib/state.js";
import {
  fleetStores,
  forEachFleetSource,
  readAsNow,
  storeReading,
  type FleetConfig,
  type FleetSource,
  type FleetStore,
  type ResumedFold,
  type SourceRead,
} from "../storage/fleet.js";
import { isSample, type Sample } from "../storage/sample.js";
import { StoreMarkSchema, StoreReadingFields } from "../storage/store-mark-schema.js";
import type { FleetDigest, Gathered, SourceGathering } from "./fleet-digest.js";

/**
 * What ams-graphs gathered of each store (fleet-digest.ts), kept between runs in
 * storage/state/series/, so that a run reads of each store only the records appended since the
 * last run (store-tail.ts), as ams-alert does: a 100-server hub's stores hold 1.4 GB, a few KB of
 * which are new every 5 minutes. A store rewritten since (ams-cleanup consolidates about once a
 * day; a hub's copy replaced by a whole pull) is read whole, and so is every store after an
 * upgrade. For each store, <name>.json holds its mark, counts, series heads with their newest
 * samples and its events; <name>.points holds its series' points, appended to in place so that a
 * run writes only the points it read. The points are doubles in this machine's byte order, three
 * per raw point (series index, time, value) and six per rollup (series index as -1 - index, time,
 * value, min, max, span), each series' points in reading order.
 */

const DIR = "series";
const BYTES = Float64Array.BYTES_PER_ELEMENT;

const count = z.number().int().min(0);
const SampleSchema = z.unknown().refine(isSample, "not a sample") as z.ZodType<Sample>;

const KeptSourceSchema = z.strictObject({
  /** The build that gathered it: another build may gather differently, so it starts afresh. */
  build: z.string(),
  /** What the store was read as: when the config changes it, the store is read whole. */
  ...StoreReadingFields,
  mark: StoreMarkSchema,
  counts: z.strictObject({ samples: count, skipped: count, foreign: count }),
  /** How many doubles of <name>.points are these series' points; any past them are a killed run's. */
  numbers: count,
  /** The inode of the points file they were written to: a file replaced since holds other points. */
  points_ino: z.number(),
  series: z.array(
    z.strictObject({
      server: z.string(),
      metric: z.string(),
      labels: z.record(z.string(), z.string()),
      unit: z.string(),
      rollups: z.boolean(),
      newest: SampleSchema,
      newest_t: z.number(),
    }),
  ),
  events: z.array(SampleSchema),
});
type KeptSource = z.infer<typeof KeptSourceSchema>;

function keptProblem(value: unknown): string | undefined {
  const issue = KeptSourceSchema.safeParse(value).error?.issues[0];
  return issue && `${issue.path.join(".") || "(file)"}: ${issue.message}`;
}

const stateName = (store: FleetStore) => `${DIR}/${store.name}`;
const pointsFile = (paths: Paths, store: FleetStore) => path.join(paths.stateDir, DIR, `${store.name}.points`);

/** Whether the `p`-th point of `g` is a raw sample's: its own min and max, no span (three doubles suffice). */
const rawPoint = (g: Gathered, p: number) =>
  !g.rollups ||
  (Object.is(g.rollups.lo[p], g.value[p]) && Object.is(g.rollups.hi[p], g.value[p]) && Object.is(g.rollups.span[p], 0));

/** The points of `series` from the `from`-th of each on (all of a series new since), as pointsFile lays them out. */
export function encodePoints(series: readonly Gathered[], from: readonly number[] = []): Float64Array {
  const out: number[] = [];
  series.forEach((g, i) => {
    for (let p = from[i] ?? 0; p < g.t.length; p++) {
      if (rawPoint(g, p)) out.push(i, g.t[p]!, g.value[p]!);
      else out.push(-1 - i, g.t[p]!, g.value[p]!, g.rollups!.lo[p]!, g.rollups!.hi[p]!, g.rollups!.span[p]!);
    }
  });
  return Float64Array.from(out);
}

/**
 * The series of `kept` with their points decoded from `numbers`, pure; undefined when the points
 * do not fit the series (then the store is read whole).
 */
export function decodePoints(kept: Pick<KeptSource, "series">, numbers: Float64Array): Gathered[] | undefined {
  const series: Gathered[] = kept.series.map((s) => ({
    head: { server: s.server, metric: s.metric, labels: s.labels, unit: s.unit },
    t: [],
    value: [],
    ...(s.rollups ? { rollups: { lo: [], hi: [], span: [] } } : {}),
    newest: () => s.newest,
    newestT: s.newest_t,
  }));
  let k = 0;
  while (k < numbers.length) {
    const index = numbers[k]!;
    const rollup = index < 0;
    const g = series[rollup ? -1 - index : index];
    if (!g || !Number.isInteger(index) || (rollup && !g.rollups) || k + (rollup ? 6 : 3) > numbers.length)
      return undefined;
    const value = numbers[k + 2]!;
    g.t.push(numbers[k + 1]!);
    g.value.push(value);
    g.rollups?.lo.push(rollup ? numbers[k + 3]! : value);
    g.rollups?.hi.push(rollup ? numbers[k + 4]! : value);
    g.rollups?.span.push(rollup ? numbers[k + 5]! : 0);
    k += rollup ? 6 : 3;
  }
  return series;
}

/** The first `numbers` doubles of the file, if it is still inode `ino`; undefined when not or when it holds fewer. */
async function readNumbers(file: string, numbers: number, ino: number): Promise<Float64Array | undefined> {
  const handle = await ifExists(() => fs.open(file, "r"), undefined);
  if (!handle) return undefined;
  try {
    if ((await handle.stat()).ino !== ino) return undefined;
    const out = new Float64Array(numbers);
    const bytes = new Uint8Array(out.buffer);
    let filled = 0;
    while (filled < bytes.length) {
      const { bytesRead } = await handle.read(bytes, filled, bytes.length - filled, filled);
      if (bytesRead === 0) return undefined;
      filled += bytesRead;
    }
    return out;
  } finally {
    await handle.close();
  }
}

/**
 * Writes `numbers` at the `at`-th double of the file (a new file from 0) and cuts it there,
 * flushed before the head that counts them is; the file's inode.
 */
async function writeNumbersAt(file: string, at: number, numbers: Float64Array): Promise<number> {
  const bytes = new Uint8Array(numbers.buffer, numbers.byteOffset, numbers.byteLength);
  if (at === 0) return (await writeFileAtomic(file, bytes)).ino;
  const handle = await fs.open(file, "r+");
  try {
    await handle.write(bytes, 0, bytes.length, at * BYTES);
    await handle.truncate((at + numbers.length) * BYTES);
    await handle.datasync();
    return (await handle.stat()).ino;
  } finally {
    await handle.close();
  }
}

/** How a run read the fleet's stores: how many from where the last run stopped, how many whole. */
export interface FleetReads {
  tail: number;
  whole: number;
}

/**
 * Reads every store of the fleet into `digest` (forEachFleetSource), each from where the last run
 * stopped when it was only appended to since, and keeps what was gathered for the next run.
 * `afterEach` runs once a source is in the digest. A kept state that cannot be used is set aside
 * (reported) and its store read whole; one that cannot be saved is reported and the run goes on.
 * `build` names what gathered it; nothing is kept without one (running from the sources).
 */
export async function digestFleet(
  paths: Paths,
  config: FleetConfig,
  digest: FleetDigest,
  log: Logger,
  afterEach: () => void,
  build = buildId,
): Promise<{ sources: FleetSource[]; reads: FleetReads }> {
  const reads: FleetReads = { tail: 0, whole: 0 };
  const dir = path.join(paths.stateDir, DIR);

  /** The fold of a source, gathering into the digest; `kept` and `from` when it goes on from a kept state. */
  const fold = (store: FleetStore, earlier?: { kept: KeptSource; gathering: SourceGathering }) => {
    const source = digest.source(earlier?.gathering);
    const from = earlier?.gathering.series.map((g) => g.t.length);
    return {
      add: (sample: Sample, whole: () => Sample) => source.add(sample, whole),
      finish: async (read: SourceRead) => {
        reads[read.from]++;
        if (read.from === "whole" && read.reason) log.info(`${store.file}: read whole (${read.reason})`);
        // Saved first: the newest samples of a whole read are parsed from the read buffer, valid until the next store is read.
        if (build !== undefined)
          await save(build, store, read, source.gathered(), read.from === "tail" ? earlier : undefined, from);
        await source.finish(read);
        afterEach();
      },
    };
  };

  async function save(
    build: string,
    store: FleetStore,
    read: SourceRead,
    gathering: SourceGathering,
    earlier: { kept: KeptSource } | undefined,
    from: number[] | undefined,
  ): Promise<void> {
    const points = pointsFile(paths, store);
    try {
      if (!read.mark) {
        // Not readable from a mark (no record yet, or another layout): nothing worth keeping.
        await fs.rm(stateFile(paths.stateDir, stateName(store)), { force: true });
        await fs.rm(points, { force: true });
        return;
      }
      const fresh = encodePoints(gathering.series, earlier ? from : undefined);
      if (earlier && fresh.length === 0 && JSON.stringify(earlier.kept.mark) === JSON.stringify(read.mark)) return;
      const at = earlier ? earlier.kept.numbers : 0;
      const ino = await writeNumbersAt(points, at, fresh);
      const kept: KeptSource = {
        build,
        ...storeReading(store),
        mark: read.mark,
        counts: read.counts,
        numbers: at + fresh.length,
        points_ino: ino,
        series: gathering.series.map((g) => ({
          ...g.head,
          rollups: g.rollups !== undefined,
          newest: g.newest(),
          newest_t: g.newestT,
        })),
        events: gathering.events,
      };
      await writeState(paths.stateDir, stateName(store), kept);
    } catch (err) {
      log.warn(`cannot keep what was read of ${store.file} for the next run: ${(err as Error).message}`);
    }
  }

  async function resume(store: FleetStore): Promise<ResumedFold | undefined> {
    if (build === undefined) return undefined;
    const kept = await readState<KeptSource>(paths.stateDir, stateName(store), keptProblem, (m) => log.warn(m));
    if (!kept || kept.build !== build || !readAsNow(kept, store)) return undefined;
    const numbers = await readNumbers(pointsFile(paths, store), kept.numbers, kept.points_ino);
    const series = numbers && decodePoints(kept, numbers);
    if (!series) {
      log.warn(
        `${pointsFile(paths, store)}: does not hold the points ${stateFile(paths.stateDir, stateName(store))} counts; reading ${store.file} whole`,
      );
      return undefined;
    }
    const gathering = { series, events: kept.events };
    return { fold: fold(store, { kept, gathering }), mark: kept.mark, counts: kept.counts };
  }

  const sources = await forEachFleetSource(paths, config, (store) => fold(store), resume);
  // What was kept of stores no longer in the config goes.
  const current = new Set(fleetStores(paths, config).flatMap((s) => [`${s.name}.json`, `${s.name}.points`]));
  for (const name of await fs.readdir(dir).catch(() => [])) {
    if (!current.has(name) && /\.(json|points)$/.test(name)) await fs.rm(path.join(dir, name), { force: true });
  }
  return { sources, reads };
}
