import type { Config } from "../config/ams-config.js";
import type { Paths } from "../lib/paths.js";
import { fileIdentity } from "../storage/file-identity.js";
import { fleetStores, readFleet, type Fleet } from "../storage/fleet.js";

/**
 * The fleet as last read, read again only when a store changed: a scrape of an unchanged fleet
 * costs one stat per store instead of parsing every record (0.5 s at 100k records), so scrapers
 * cannot keep ams-web busy (a store's identity: storage/file-identity.ts).
 */
export interface FleetSnapshot {
  fleet(): Promise<Fleet>;
  /** Full reads of the stores so far. */
  readonly reads: number;
}

/** `reduce` keeps only what the reader needs of a fresh read (e.g. the latest sample of each series). */
export function fleetSnapshot(paths: Paths, config: Config, reduce: (fleet: Fleet) => Fleet = (f) => f): FleetSnapshot {
  const files = fleetStores(paths, config).map((s) => s.file);
  let current: { key: string; fleet: Promise<Fleet> } | undefined;
  let reads = 0;
  return {
    get reads() {
      return reads;
    },
    async fleet() {
      // Identities taken before the read: a store replaced during it is read again next time.
      const key = (await Promise.all(files.map(fileIdentity))).join("|");
      if (current?.key !== key) {
        reads++;
        const fleet = readFleet(paths, config).then(reduce);
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
