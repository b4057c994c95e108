import path from "node:path";
import type { Paths } from "../lib/paths.js";
import type { Sample } from "./sample.js";
import { readSamples } from "./store.js";

/** Where samples came from: this server's store or one remote's last good copy. */
export interface FleetSource {
  /** "local", or the remote's configured name. */
  name: string;
  file: string;
  samples: number;
  skipped: number;
  error?: string;
}

export interface Fleet {
  samples: Sample[];
  sources: FleetSource[];
}

/** The config keys that say which stores make the fleet: this server's name and the remotes pulled. */
export interface FleetConfig {
  server_id: string;
  remotes: readonly { name: string }[];
}

/** Where ams-fetch-remote keeps the last good copy of a remote's store. */
export const remoteCopy = (paths: Paths, name: string) => path.join(paths.remoteDir, `${name}_logs.json`);

/**
 * Every server's samples through one reader: this server's store and the last good copy of each
 * remote in the config (records lacking a server_id are tagged with the remote's name). A remote
 * taken out of the config leaves the pages, /metrics and the alert rules, though its last copy
 * stays on disk. A source that cannot be read is reported in `sources` and the others are still
 * returned; a remote not pulled yet reads as empty.
 */
export async function readFleet(paths: Paths, config: FleetConfig): Promise<Fleet> {
  const inputs: [string, string, string][] = [["local", paths.store, config.server_id]];
  for (const { name } of config.remotes) inputs.push([name, remoteCopy(paths, name), name]);
  const samples: Sample[] = [];
  const sources: FleetSource[] = [];
  for (const [name, file, fallbackId] of inputs) {
    try {
      const result = await readSamples(file, fallbackId);
      for (const sample of result.samples) samples.push(sample);
      sources.push({ name, file, samples: result.samples.length, skipped: result.skipped });
    } catch (err) {
      sources.push({ name, file, samples: 0, skipped: 0, error: (err as Error).message });
    }
  }
  return { samples, sources };
}
