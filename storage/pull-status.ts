import type { Paths } from "../lib/paths.js";
import { readState, writeState } from "../lib/state.js";

/** What the last pulls of one remote did (storage/state/remote-pulls.json), for the dashboard and /metrics. */
export interface PullStatus {
  /** ISO time the last pull started. */
  last_attempt: string;
  /** ISO time of the last pull whose copy was kept; absent until one succeeds. */
  last_success?: string;
  /** Why the last pull failed; absent when it succeeded. */
  last_error?: string;
  /** Seconds the last pull took. */
  duration_seconds: number;
  /** Readable records in the copy now kept (the last good one). */
  records?: number;
  /** Records of that copy naming a server the remote may not speak for (skipped), and the first few names. */
  foreign_records?: number;
  foreign_servers?: string[];
}

export type PullStatuses = Record<string, PullStatus>;

const STATE_NAME = "remote-pulls";

/** Every remote's pull status by name; {} before the first pull. */
export async function readPullStatus(paths: Paths): Promise<PullStatuses> {
  return (await readState<PullStatuses>(paths.stateDir, STATE_NAME)) ?? {};
}

export async function writePullStatus(paths: Paths, statuses: PullStatuses): Promise<void> {
  await writeState(paths.stateDir, STATE_NAME, statuses);
}
