import { z } from "zod";
import type { Paths } from "../lib/paths.js";
import { readState, writeState, type ResetReport } from "../lib/state.js";
import {
  fleetSource,
  fleetStores,
  readAsNow,
  storeReading,
  type FleetConfig,
  type FleetSource,
  type FleetStore,
} from "../storage/fleet.js";
import { readFleetStoreSince } from "../storage/fleet-tail.js";
import { isSample, type Sample } from "../storage/sample.js";
import { seriesKey } from "../storage/series-key.js";
import { StoreMarkSchema, StoreReadingFields } from "../storage/store-mark-schema.js";
import { advisoryLink } from "./cert.js";
import { rebootKey } from "./reboot.js";
import { SILENT_RULE, type Condition } from "./rules.js";
import type { AlertStates } from "./state.js";

/**
 * What ams-alert reads of the fleet: of each store only the records appended since its last run
 * (storage/store-tail.ts), plus the few older samples its stages still look at, carried over in
 * storage/state/alert-reads.json. Of the samples read before, the stages need only:
 *  - each series' first sample in file order (the order of the alerts), its earliest (the
 *    condition's unit and labels) and its latest (the silent rule's last sample per server);
 *  - each CERT advisory's and each reboot's earliest sample (cert.ts, reboot.ts: seen lists);
 *  - no threshold observation older than what the previous run judged (state.ts replays only
 *    newer ones), which `judgedAlready` checks against the alert state actually read.
 * A store read whole gives all its samples. So the stages see the same alerts as with every
 * store read whole; when the alert state does not cover the samples carried over (a new rule, a
 * lost state), check.ts reads every store whole.
 */

export const READ_CURSOR = "alert-reads";

/** A sample and its place among its store's samples (only their order counts). */
interface Placed {
  pos: number;
  sample: Sample;
}

const PlacedSchema = z.strictObject({
  pos: z.number().int().min(0),
  sample: z.unknown().refine(isSample, "not a sample"),
});

const SourceCursorSchema = z.strictObject({
  /** Whom the records are read for: when the config changes it, the store is read whole. */
  ...StoreReadingFields,
  mark: StoreMarkSchema,
  samples: z.number().int().min(0),
  skipped: z.number().int().min(0),
  foreign: z.number().int().min(0),
  carried: z.array(PlacedSchema).refine((c) => c.every((p, i) => i === 0 || p.pos > c[i - 1]!.pos), "out of order"),
  /** How the last run read it, why a whole read when it had a mark, and how often each happened. */
  last_read: z.enum(["whole", "tail"]),
  reason: z.string().optional(),
  whole_reads: z.number().int().min(0),
  tail_reads: z.number().int().min(0),
});
type SourceCursor = z.infer<typeof SourceCursorSchema>;

const ReadCursorSchema = z.strictObject({ sources: z.record(z.string(), SourceCursorSchema) });
export type ReadCursor = z.infer<typeof ReadCursorSchema>;

function cursorProblem(value: unknown): string | undefined {
  const issue = ReadCursorSchema.safeParse(value).error?.issues[0];
  return issue && `${issue.path.join(".") || "(file)"}: ${issue.message}`;
}

/** The saved cursor; none (every store read whole) when absent or unusable (moved aside, reported). */
export function readReadCursor(stateDir: string, onReset: ResetReport): Promise<ReadCursor | undefined> {
  return readState<ReadCursor>(stateDir, READ_CURSOR, cursorProblem, onReset);
}

export function writeReadCursor(stateDir: string, cursor: ReadCursor): Promise<void> {
  return writeState(stateDir, READ_CURSOR, cursor);
}

function withoutDetails(sample: Sample): Sample {
  const rest = { ...sample };
  delete rest.details;
  return rest;
}

/**
 * The samples of `placed` (in store order) that the alert stages still need once read, pure (see
 * the header). Carrying these of (carried ∪ new) keeps the same ones as of (everything read).
 * Details only serve the advisories and reboots: the other samples are carried without them.
 */
export function carriedSamples(placed: readonly Placed[]): Placed[] {
  const at = placed.map((p) => Date.parse(p.sample.timestamp));
  const first = new Map<string, number>();
  const earliest = new Map<string, number>();
  const latest = new Map<string, number>();
  const advisories = new Map<string, number>();
  const reboots = new Map<string, number>();
  const earlier = (map: Map<string, number>, key: string, i: number) => {
    const known = map.get(key);
    if (known === undefined || at[i]! < at[known]!) map.set(key, i);
  };
  placed.forEach((p, i) => {
    const series = seriesKey(p.sample);
    if (!first.has(series)) first.set(series, i);
    earlier(earliest, series, i);
    const last = latest.get(series);
    if (last === undefined || at[i]! > at[last]!) latest.set(series, i);
    const link = advisoryLink(p.sample);
    if (link !== undefined) earlier(advisories, link, i);
    const reboot = rebootKey(p.sample);
    if (reboot !== undefined) earlier(reboots, reboot, i);
  });
  const withDetails = new Set([...advisories.values(), ...reboots.values()]);
  const kept = new Set([...first.values(), ...earliest.values(), ...latest.values(), ...withDetails]);
  return [...kept]
    .sort((a, b) => a - b)
    .map((i) => (withDetails.has(i) ? placed[i]! : { pos: placed[i]!.pos, sample: withoutDetails(placed[i]!.sample) }));
}

export interface FleetRead {
  /** Every sample of the stores read whole; of the others, those carried over then the new ones. */
  samples: Sample[];
  /** As readFleet reports them: counts are of the whole store. */
  sources: FleetSource[];
  /** The latest time (ms) among the samples carried over rather than read, per series. */
  carriedUntil: Map<string, number>;
  cursor: ReadCursor;
}

/** The saved cursor of a store, if it was read for the same servers as the config says now. */
function usable(saved: SourceCursor | undefined, store: FleetStore): SourceCursor | undefined {
  return saved && readAsNow(saved, store) ? saved : undefined;
}

/**
 * The fleet as the alert stages need it, reading each store from where `cursor` says the last run
 * stopped (every store whole without one, or with `whole`, the reason).
 */
export async function readFleetSince(
  paths: Paths,
  config: FleetConfig,
  cursor: ReadCursor | undefined,
  whole?: string,
): Promise<FleetRead> {
  const read: FleetRead = { samples: [], sources: [], carriedUntil: new Map(), cursor: { sources: {} } };
  for (const store of fleetStores(paths, config)) {
    const saved = cursor && Object.hasOwn(cursor.sources, store.name) ? cursor.sources[store.name] : undefined;
    const previous = whole ? undefined : usable(saved, store);
    try {
      const got = await readFleetStoreSince(store, previous && { mark: previous.mark, counts: previous });
      const tail = got.from === "tail" ? previous : undefined;
      const carried = tail?.carried ?? [];
      for (const { sample } of carried) {
        read.samples.push(sample);
        const series = seriesKey(sample);
        read.carriedUntil.set(
          series,
          Math.max(read.carriedUntil.get(series) ?? -Infinity, Date.parse(sample.timestamp)),
        );
      }
      for (const sample of got.samples) read.samples.push(sample); // a spread would overflow the stack past ~110k
      const { counts } = got;
      const { name } = store;
      read.sources.push(fleetSource(store, counts));
      if (!got.mark) continue;
      const from = tail ? tail.mark.records : 0;
      const unfit = saved && !previous ? "read for other servers before" : undefined;
      const reason = got.from === "whole" ? (whole ?? unfit ?? got.reason) : undefined;
      read.cursor.sources[name] = {
        ...storeReading(store),
        mark: got.mark,
        ...counts,
        carried: carriedSamples([...carried, ...got.samples.map((sample, i) => ({ pos: from + i, sample }))]),
        last_read: got.from,
        ...(reason ? { reason } : {}),
        whole_reads: (saved?.whole_reads ?? 0) + (got.from === "whole" ? 1 : 0),
        tail_reads: (saved?.tail_reads ?? 0) + (got.from === "tail" ? 1 : 0),
      };
    } catch (err) {
      read.sources.push(fleetSource(store, { error: (err as Error).message }));
    }
  }
  return read;
}

/**
 * Whether the alert state already judged every threshold observation carried over, pure: then
 * none of them is replayed (state.ts replays only observations newer than an alert's last_at), and
 * leaving out the older samples changes nothing. A series with no alert state yet (a new rule, a
 * lost state) would look back over its whole history: the stores must be read whole.
 */
export function judgedAlready(
  previous: AlertStates,
  conditions: readonly Condition[],
  carriedUntil: ReadonlyMap<string, number>,
): boolean {
  return conditions.every((c) => {
    const until = c.rule === SILENT_RULE ? undefined : carriedUntil.get(seriesKey(c));
    if (until === undefined) return true;
    const old = Object.hasOwn(previous, c.key) ? previous[c.key] : undefined;
    return old !== undefined && !(until > Date.parse(old.last_at));
  });
}
