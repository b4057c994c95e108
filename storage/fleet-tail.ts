import { storeSamples, type FleetStore, type StoreCounts } from "./fleet.js";
import type { Sample } from "./sample.js";
import { readStoreSince, type StoreMark, type StoreRead } from "./store-tail.js";

/** A fleet store read since an earlier read: as readStoreSince says, its new samples, and the whole store's counts. */
export interface FleetStoreRead {
  from: StoreRead["from"];
  reason?: string;
  mark?: StoreMark;
  samples: Sample[];
  counts: StoreCounts;
}

/**
 * One store of the fleet read from where `last` stopped (store-tail.ts): the samples it gives the
 * fleet (storeSamples) of the records read, and its counts as a whole read would give them (those
 * of `last` added when only the appended records were read). Throws as readStoreSince.
 */
export async function readFleetStoreSince(
  store: FleetStore,
  last?: { mark?: StoreMark; counts: StoreCounts },
): Promise<FleetStoreRead> {
  const { records, ...read } = await readStoreSince(store.file, last?.mark);
  const own = storeSamples(records, store);
  const base = read.from === "tail" ? last?.counts : undefined;
  const counts = {
    samples: (base?.samples ?? 0) + own.samples.length,
    skipped: (base?.skipped ?? 0) + own.skipped,
    foreign: (base?.foreign ?? 0) + own.foreign,
  };
  return { ...read, samples: own.samples, counts };
}
