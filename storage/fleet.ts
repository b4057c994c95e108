import fs from "node:fs/promises";
import path from "node:path";
import type { Config } from "../lib/config.js";
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

const REMOTE_FILE = /^(.+)_logs\.json$/;

/** The remote copies present in storage/remote/, as [name, file]. */
async function remoteFiles(remoteDir: string): Promise<[string, string][]> {
  try {
    const names = (await fs.readdir(remoteDir)).sort();
    return names.flatMap((f) => {
      const m = REMOTE_FILE.exec(f);
      return m ? [[m[1]!, path.join(remoteDir, f)] as [string, string]] : [];
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
}

/**
 * Every server's samples through one reader: this server's store and each remote's last good copy
 * (records lacking a server_id are tagged with the remote's name). A source that cannot be read is
 * reported in `sources` and the others are still returned.
 */
export async function readFleet(paths: Paths, config: Config): Promise<Fleet> {
  const inputs: [string, string, string][] = [["local", paths.store, config.server_id]];
  for (const [name, file] of await remoteFiles(paths.remoteDir)) inputs.push([name, file, name]);
  const samples: Sample[] = [];
  const sources: FleetSource[] = [];
  for (const [name, file, fallbackId] of inputs) {
    try {
      const result = await readSamples(file, fallbackId);
      samples.push(...result.samples);
      sources.push({ name, file, samples: result.samples.length, skipped: result.skipped });
    } catch (err) {
      sources.push({ name, file, samples: 0, skipped: 0, error: (err as Error).message });
    }
  }
  return { samples, sources };
}
