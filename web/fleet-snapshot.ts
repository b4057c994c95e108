import type { Config } from "../config/ams-config.js";
import type { Paths } from "../lib/paths.js";
import { fileIdentity } from "../storage/file-identity.js";
import {
  fleetSource,
  fleetStores,
  type Fleet,
  type FleetSource,
  type FleetStore,
  type StoreCounts,
} from "../storage/fleet.js";
import { readFleetStoreSince } from "../storage/fleet-tail.js";
import type { Sample } from "../storage/sample.js";
import type { StoreMark } from "../storage/store-tail.js";

/**
 * The fleet as last read, read again only when a store changed: a scrape of an unchanged fleet
 * costs one stat per store instead of parsing every record (0.5 s at 100k records), so scrapers
 * cannot keep ams-web busy (a store's identity: storage/file-identity.ts). A store that was only
 * appended to since (this server's store, a remote's copy extended in place) has only its new
 * records read (storage/store-tail.ts).
 */
export interface FleetSnapshot {
  fleet(): Promise<Fleet>;
  /** Times the stores were read again because one changed. */
  readonly reads: number;
}

/** What the snapshot keeps of one store: where its last read stopped, its counts, and what `reduce` kept of its samples. */
interface StoreView {
  mark?: StoreMark;
  counts: StoreCounts;
  samples: Sample[];
}

/**
 * `reduce` keeps only what the reader needs of a store's samples (e.g. the latest of each series);
 * it is applied to the store's kept samples followed by its new ones, so it must give the same
 * result on its own output followed by more samples as on all of them. The fleet's samples are
 * those of its stores one after the other (a series in two stores is in both).
 */
export function fleetSnapshot(
  paths: Paths,
  config: Config,
  reduce: (samples: Sample[]) => Sample[] = (s) => s,
): FleetSnapshot {
  const stores = fleetStores(paths, config);
  const views = new Map<string, StoreView>();
  let current: { key: string; fleet: Promise<Fleet> } | undefined;
  // One refresh at a time: two would apply the same appended records to a store's view twice.
  let refreshing: Promise<unknown> = Promise.resolve();
  let reads = 0;

  async function readStore(store: FleetStore): Promise<{ samples: Sample[]; source: FleetSource }> {
    const before = views.get(store.file);
    try {
      const read = await readFleetStoreSince(store, before);
      const kept = read.from === "tail" && before ? before.samples.concat(read.samples) : read.samples;
      const view: StoreView = { mark: read.mark, counts: read.counts, samples: reduce(kept) };
      views.set(store.file, view);
      return { samples: view.samples, source: fleetSource(store, read.counts) };
    } catch (err) {
      views.delete(store.file);
      return { samples: [], source: fleetSource(store, { error: (err as Error).message }) };
    }
  }

  async function readAll(): Promise<Fleet> {
    const samples: Sample[] = [];
    const sources: FleetSource[] = [];
    for (const store of stores) {
      const view = await readStore(store);
      for (const sample of view.samples) samples.push(sample);
      sources.push(view.source);
    }
    return { samples, sources };
  }

  return {
    get reads() {
      return reads;
    },
    async fleet() {
      // Identities taken before the read: a store replaced during it is read again next time.
      const key = (await Promise.all(stores.map((s) => fileIdentity(s.file)))).join("|");
      if (current?.key !== key) {
        reads++;
        const fleet = refreshing.then(readAll);
        refreshing = fleet.catch(() => undefined);
        current = { key, fleet };
        // A failed read is not kept: the next request tries again.
        fleet.catch(() => {
          if (current?.fleet === fleet) current = undefined;
        });
      }
      return current.fleet;
    },
  };
}
